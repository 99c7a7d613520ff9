import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * A full garbage collection on demand, in a test process started without --expose-gc: the flag is set just long
 * enough for one new vm context to get its `gc`, then cleared. Left set, every context created afterwards in the
 * same jest worker (the next test files' globals) would carry a non-configurable `gc`, which breaks tests that
 * expect it absent or install their own.
 */
export function fullGc(): () => void {
  setFlagsFromString("--expose-gc");
  try {
    return runInNewContext("gc") as () => void;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
