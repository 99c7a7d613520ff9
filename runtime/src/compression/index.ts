export * from "./response-compressor";
