/**
 * The reference service's API, under the service's own path prefix (the ALB forwards
 * `/<service>/*` unchanged):
 *   POST  /<service>/operations       the seed's `{ type, payload }`: stored, audited, announced on the WebSocket feed;
 *                                     with an Idempotency-Key header a retry returns the first row (no duplicate).
 *                                     A 200 is sent only after COMMIT; a database out of reach is 503 + Retry-After.
 *   GET   /<service>/operations/:id   cached with getOrSet (L1 + Redis); a miss is never cached
 *   PATCH /<service>/operations/:id   `{ status }`: stored, audited, cache entry deleted everywhere, announced
 *   GET   /<service>/stats            the seed's operation_stats view, cached briefly (it refreshes every few minutes)
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { UaipRuntime } from "@uaip/runtime";
import { errorBody, jsonReplies } from "./http";
import { OperationsStore, type Operation } from "./operations-store";
import { createOperationSchema, idempotencyKeyOf, readJson, RequestError, updateOperationSchema } from "./requests";

/** How long /stats may be served from the cache, ms: well below the view's refresh interval. */
export const STATS_CACHE_TTL_MS = 10_000;

export const operationKey = (id: string) => `operation:${id}`;

/** The operation, or a 404 RequestError (thrown out of the cache's loader, so a miss is never cached). */
async function loadOperation(store: OperationsStore, id: string): Promise<Operation> {
  const found = await store.get(id);
  if (!found) throw new RequestError(404, "NOT_FOUND", `no operation ${id}`);
  return found;
}

export interface OperationRoutes {
  /** Handles the request if it is one of these routes; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

/** Events on the WebSocket feed, one JSON object per message (delivered in batches). */
export type OperationEvent = { type: "operation.created" | "operation.updated"; operation: Operation };

/**
 * `actorOf(req)` names the client in the audit log; it runs only for the writes (parsing
 * X-Forwarded-For on every cached read would be work thrown away).
 */
export function operationRoutes(
  runtime: UaipRuntime,
  publish: (event: OperationEvent) => void,
  actorOf: (req: IncomingMessage) => string,
): OperationRoutes {
  const { config, cache, db } = runtime;
  const { json, cachedJson, sendError } = jsonReplies(runtime.compressor);
  const store = db ? new OperationsStore(db) : undefined;
  const prefix = `/${config.serviceName}`;
  const collectionPath = `${prefix}/operations`;
  const statsPath = `${prefix}/stats`;
  const one = new RegExp(`^${prefix}/operations/(\\d{1,18})$`);

  // A service started without UAIP_DB_HOST (a test, a cache-only deployment) says so by name.
  const noStore = (res: ServerResponse) =>
    json(res, 503, errorBody("DB_NOT_CONFIGURED", "this service has no database (UAIP_DB_HOST is unset)"));
  const withStore = (res: ServerResponse, fn: (s: OperationsStore) => Promise<void>) => {
    if (!store) return noStore(res);
    fn(store).catch((err: unknown) => sendError(res, err));
  };

  return {
    handle(req, res, path) {
      if (path === collectionPath) {
        if (req.method !== "POST") return (json(res, 405, errorBody("METHOD_NOT_ALLOWED")), true);
        withStore(res, async (s) => {
          const key = idempotencyKeyOf(req);
          const input = await readJson(req, createOperationSchema);
          const { operation, replayed, sameBody } = await s.create(input, actorOf(req), key);
          // Answering a different body with the first row would hide the client's mistake.
          if (!sameBody)
            throw new RequestError(
              422,
              "IDEMPOTENCY_KEY_REUSED",
              `Idempotency-Key ${JSON.stringify(key)} was used for a different body (operation ${operation.id}); use a new key for a new operation`,
            );
          // The seed's load test checks `is status 200`; a replay says so (and is not announced again).
          if (replayed) res.setHeader("Idempotent-Replayed", "true");
          json(res, 200, operation);
          if (!replayed) publish({ type: "operation.created", operation });
        });
        return true;
      }
      if (path === statsPath) {
        if (req.method !== "GET") return (json(res, 405, errorBody("METHOD_NOT_ALLOWED")), true);
        withStore(res, async (s) =>
          json(res, 200, { stats: await cache.getOrSet("stats", () => s.stats(), { ttl: STATS_CACHE_TTL_MS }) }),
        );
        return true;
      }
      const match = one.exec(path);
      if (!match) return false;
      const id = match[1];
      if (req.method === "GET") {
        if (!store) return (noStore(res), true);
        const key = operationKey(id);
        // The service's hottest path: an L1 hit is answered in the turn the request arrived (no
        // promise per request), with the bytes serialized once per cached copy.
        const cached = cache.getNow<Operation>(key);
        if (cached !== undefined) {
          try {
            cachedJson(res, 200, cached);
          } catch (err) {
            sendError(res, err);
          }
          return true;
        }
        cache
          .getOrSet(key, () => loadOperation(store, id))
          .then((operation) => cachedJson(res, 200, operation))
          .catch((err: unknown) => sendError(res, err));
        return true;
      }
      if (req.method === "PATCH") {
        withStore(res, async (s) => {
          const { status } = await readJson(req, updateOperationSchema);
          const operation = await s.setStatus(id, status, actorOf(req));
          if (!operation) throw new RequestError(404, "NOT_FOUND", `no operation ${id}`);
          // Every replica drops its copy (the cache's invalidation bus); the next read loads the new status.
          await cache.delete(operationKey(id));
          json(res, 200, operation);
          publish({ type: "operation.updated", operation });
        });
        return true;
      }
      json(res, 405, errorBody("METHOD_NOT_ALLOWED"));
      return true;
    },
  };
}
