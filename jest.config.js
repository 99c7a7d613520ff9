const { randomBytes } = require("node:crypto");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

// One fresh temporary directory per jest run, inherited by its workers (and the servers and plans they
// start) as TMPDIR, so os.tmpdir() points there; test/global-setup.js makes it and test/global-teardown.js
// removes it after the run. Tests leave nothing behind in /tmp, whatever they forget to clean. What is meant
// to outlive a run (the packed runtime and its installs, test/helpers/pack-runtime.ts) goes to
// UAIP_SHARED_TMPDIR, the system's temporary directory.
process.env.UAIP_SHARED_TMPDIR ??= tmpdir();
// Named here, made by the global setup: evaluating the config (jest --listTests, an editor) leaves nothing behind.
process.env.UAIP_JEST_TMPDIR = join(process.env.UAIP_SHARED_TMPDIR, `uaip-jest-${process.pid}-${randomBytes(4).toString("hex")}`);
process.env.TMPDIR = process.env.UAIP_JEST_TMPDIR;
// test/helpers/plan.ts shares there the plans that several test files make with the same arguments.
process.env.UAIP_PLAN_CACHE = join(process.env.UAIP_JEST_TMPDIR, "plans");

/** Jest only transpiles (swc); `npm run typecheck` (tsc --noEmit) does the type checking. */
module.exports = {
  testEnvironment: "node",
  // Jest's default (<tmpdir>/jest_<uid>), fixed before TMPDIR moves above: its transform cache and the timings
  // test/sequencer.js orders by outlive a run.
  cacheDirectory: join(process.env.UAIP_SHARED_TMPDIR, `jest_${process.getuid ? process.getuid().toString(36) : "default"}`),
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
  globalSetup: "<rootDir>/test/global-setup.js",
  globalTeardown: "<rootDir>/test/global-teardown.js",
  testSequencer: "<rootDir>/test/sequencer.js",
  maxWorkers: 2,
  testTimeout: 30000,
};
