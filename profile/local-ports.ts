/**
 * Host ports the local platform publishes for its own servers (components/local/local-platform.ts):
 * a service on one of them would fail to bind when the stack starts.
 */
export const LOCAL_PLATFORM_PORTS = { redis: 6379, postgres: 5432, prometheus: 9090, grafana: 3000 } as const;
