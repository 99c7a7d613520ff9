import type { DbSettings } from "../../src/db/pool";

/**
 * Database settings whose every connect is refused at once: nothing listens on port 1. For the pool's rules that
 * need no PostgreSQL (a test that needs a connect to hang instead points `port` at helpers/silent-server.ts).
 */
export const REFUSED_DATABASE: Readonly<DbSettings["database"]> = {
  host: "127.0.0.1",
  port: 1,
  name: "none",
  user: "none",
  password: "none",
  ssl: false,
  sslCaFile: "",
  statsRefreshIntervalMs: 0,
};
