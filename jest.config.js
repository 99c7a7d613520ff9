const { chmodSync, mkdirSync, mkdtempSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

// One fresh temporary directory per jest run, inherited by its workers (and the servers and plans they
// start) as TMPDIR, so os.tmpdir() points there; test/global-teardown.js removes it. Tests leave nothing
// behind in /tmp, whatever they forget to clean. What is meant to outlive a run (the packed runtime's
// install, test/helpers/pack-runtime.ts) goes to UAIP_SHARED_TMPDIR, the system's temporary directory.
process.env.UAIP_SHARED_TMPDIR ??= tmpdir();
process.env.UAIP_JEST_TMPDIR = mkdtempSync(join(process.env.UAIP_SHARED_TMPDIR, "uaip-jest-"));
// The same mode as /tmp: PostgreSQL's initdb and server run as an unprivileged user (tools/local-servers) and must
// reach their own directories in here.
chmodSync(process.env.UAIP_JEST_TMPDIR, 0o1777);
process.env.TMPDIR = process.env.UAIP_JEST_TMPDIR;
// test/helpers/plan.ts shares there the plans that several test files make with the same arguments.
process.env.UAIP_PLAN_CACHE = join(process.env.UAIP_JEST_TMPDIR, "plans");
mkdirSync(process.env.UAIP_PLAN_CACHE);

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
  globalTeardown: "<rootDir>/test/global-teardown.js",
  testSequencer: "<rootDir>/test/sequencer.js",
  maxWorkers: 2,
  testTimeout: 30000,
};
