export * from "./errors";
export * from "./pool";
export * from "./manager";
export * from "./migrate";
export * from "./roles";
export * from "./stats-refresher";
export { postgresTlsOptions } from "./tls";
export { rolePasswordEnv } from "./migrate-cli";
