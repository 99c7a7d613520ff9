const Sequencer = require("@jest/test-sequencer").default;
const { relative } = require("node:path");

const ROOT = require("node:path").join(__dirname, "..");

/**
 * The slowest test files, in seconds, as measured in a fresh-clone `.ci/run` (2 cores, load ~2, 2026-12-06).
 * Jest runs the longest files first when it has timings from an earlier run; a fresh clone has none, so it
 * orders by file size, and a short file that runs for 40 s (the bench smoke run) could start last and keep
 * one worker busy while the other idles. Stale numbers only cost that; test/tools/sequencer.test.ts checks
 * that every file named here exists.
 */
const SLOWEST = {
  "runtime/test/package.test.ts": 58,
  "test/plan/regions.test.ts": 46,
  "test/plan/plan.test.ts": 45,
  "test/bench/smoke.test.ts": 38,
  "test/components/aws/provider-rules/plan-checks.test.ts": 37,
  "test/plan/cost-plan.test.ts": 34,
  "runtime/test/redis/sharded-pubsub.test.ts": 33,
  "test/dashboards/promtool.test.ts": 32,
  "test/diff/diff.test.ts": 24,
  "test/components/aws/region-and-support.test.ts": 23,
  "runtime/test/ratelimit/redis-store.test.ts": 23,
  "runtime/test/cache/outage.test.ts": 23,
  "runtime/test/cache/invalidate.test.ts": 20,
  "test/examples/image.test.ts": 19,
  "runtime/test/redis/cluster.test.ts": 17,
  "test/plan/data-tier-plan.test.ts": 17,
  "runtime/test/cache/bus-edges.test.ts": 15,
  "runtime/test/cache/bus-mutants.test.ts": 14,
  "runtime/test/cache/manager-edges.test.ts": 13,
  "test/profile/ci-deploys.test.ts": 13,
  "test/load/open-model.test.ts": 13,
  "runtime/test/cache/deadlines-sweep.test.ts": 12,
};

/** Jest's own order, except in a run without timings: then the files above first, the slowest first. */
class SlowestFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    if (sorted.some((test) => test.duration != null)) return sorted;
    const estimate = (test) => SLOWEST[relative(ROOT, test.path)] ?? 0;
    return sorted
      .map((test, index) => ({ test, index }))
      .sort((a, b) => estimate(b.test) - estimate(a.test) || a.index - b.index)
      .map(({ test }) => test);
  }
}

module.exports = SlowestFirst;
module.exports.SLOWEST = SLOWEST;
