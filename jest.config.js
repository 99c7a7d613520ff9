const { mkdtempSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

// One fresh directory per jest run, inherited by its workers: test/helpers/plan.ts shares the plans that
// several test files make with the same arguments there.
process.env.UAIP_PLAN_CACHE = mkdtempSync(join(tmpdir(), "uaip-plan-cache-"));

/** Jest only transpiles (swc); `npm run typecheck` (tsc --noEmit) does the type checking. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test", "<rootDir>/runtime/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } }],
  },
  // Tests run the runtime from source (transpiled by swc); services and the Pulumi program load runtime/dist.
  moduleNameMapper: {
    "^@uaip/runtime$": "<rootDir>/runtime/src/index.ts",
    "^@uaip/runtime/(cache|ratelimit|db|realtime|resources|profiler|compression|metrics|config|fastify)$":
      "<rootDir>/runtime/src/$1/index.ts",
  },
  maxWorkers: 2,
  testTimeout: 30000,
};
