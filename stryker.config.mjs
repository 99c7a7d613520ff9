import process from "node:process";

// Mutation testing of the core (issue #22): `npm run mutate` for the whole core, `npm run mutate -- <files or
// folders>` for one change (tools/mutate.ts). Kept out of `npm test`: a whole run takes hours on 2 cores (README).
// Reports land in reports/mutation/ (gitignored); the incremental file there too, so each developer's
// `npm run mutate -- <files>` only re-runs the mutants their change touched, without merge conflicts on it.

/** The core modules whose behaviour the tests must pin down. */
export const CORE = [
  "runtime/src/{cache,ratelimit,redis,db,realtime,resources,compression}/**/*.ts",
  "profile/**/*.ts",
  "policy/rules/**/*.ts",
  "dashboards/rules.ts",
  "load/runner/**/*.ts",
];

// A per-folder run names its own report (tools/mutate.ts sets it) so runs on different folders keep their reports.
const name = process.env.STRYKER_REPORT_NAME || "mutation";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "jest",
  jest: {
    projectType: "custom",
    configFile: "jest.config.js",
    // The dry run and each mutant run only the test files that import the mutated file (jest --findRelatedTests),
    // not the whole suite.
    enableFindRelatedTests: true,
    config: {
      // Tests that run the code in a child process (a whole `npm run plan`, the policy pack's server, the packed
      // runtime): the child never sees the active mutant, so they cannot kill one, and each takes minutes here.
      testPathIgnorePatterns: [
        "/node_modules/",
        "<rootDir>/test/plan/",
        "<rootDir>/test/diff/",
        "<rootDir>/test/examples/",
        "<rootDir>/test/tools/checks/k8s/",
        "<rootDir>/test/policy/cli\\.test\\.ts$",
        "<rootDir>/test/policy/pack\\.test\\.ts$",
        "<rootDir>/test/components/k8s/images\\.test\\.ts$",
        "<rootDir>/test/components/aws/provider-rules/plan-checks\\.test\\.ts$",
        "<rootDir>/runtime/test/package\\.test\\.ts$",
        // These start tsx in a child process, which fails inside Stryker's sandbox (and would not see the mutant).
        "<rootDir>/test/tools/render-comment\\.test\\.ts$",
        "<rootDir>/test/load/report\\.test\\.ts$",
        "<rootDir>/test/load/preview\\.test\\.ts$",
        "<rootDir>/test/bench/smoke\\.test\\.ts$",
        // These run a whole plan through test/helpers/plan.ts's runPlan (tsx in a child process) as well.
        "<rootDir>/test/profile/ci-deploys\\.test\\.ts$",
        "<rootDir>/test/workflows/ci-runner\\.test\\.ts$",
      ],
    },
  },
  // Each mutant runs only the tests that covered it in the dry run: many times faster than "all".
  coverageAnalysis: "perTest",
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.stryker.json",
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: CORE,
  // Two cores shared by everyone: never more than two test processes.
  concurrency: 2,
  // The tests start real redis-server/PostgreSQL and run timers; a loaded machine needs slack before a slow
  // mutant counts as an infinite loop (Timeout).
  timeoutMS: 20000,
  timeoutFactor: 2,
  // The dry run of a whole folder (e.g. profile/, whose related tests include the plan helpers) took longer than
  // Stryker's default 5 minutes on the shared machine.
  dryRunTimeoutMinutes: 30,
  incremental: true,
  incrementalFile: "reports/mutation/incremental.json",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: ".stryker-tmp",
  ignorePatterns: ["reports", ".stryker-tmp", "coverage", "plan*.json"],
  cleanTempDir: "always",
};
