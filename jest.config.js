/** Jest only transpiles (swc); `npm run typecheck` (tsc --noEmit) does the type checking. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } }] },
  maxWorkers: 2,
  testTimeout: 30000,
};
