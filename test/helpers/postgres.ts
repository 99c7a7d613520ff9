// The server lives under tools/local-servers (npm run load and npm run bench start it too).
export { copyForUnprivilegedUser, PostgresServer } from "../../tools/local-servers/postgres-server";
export { startReplica, waitForReplay } from "../../tools/local-servers/postgres-replica";
