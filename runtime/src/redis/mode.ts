/**
 * How the runtime reaches Redis (`cache.redis.mode`, UAIP_REDIS_MODE): one primary (with replicas for
 * failover, ElastiCache "cluster mode disabled") or a Redis Cluster (ElastiCache cluster mode enabled,
 * and ElastiCache Serverless, which is always a cluster). No ioredis import here: the settings schema reads it.
 */
export const REDIS_MODES = ["standalone", "cluster"] as const;
export type RedisMode = (typeof REDIS_MODES)[number];
