// Public API of the Fastify integration (fastify itself is an optional peer: nothing here imports it).
export {
  uaipFastify,
  fastifyCompressOptions,
  FastifyPluginOptionsError,
  UAIP_FASTIFY_OPTIONS,
  type UaipFastifyOptions,
  type FastifyInstanceLike,
  type FastifyRequestLike,
  type FastifyReplyLike,
} from "./plugin";
