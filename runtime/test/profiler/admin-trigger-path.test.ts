import type { IncomingMessage, ServerResponse } from "node:http";
import fc from "fast-check";
import { CPUProfiler, PROFILE_ADMIN_PATH, ProfileTrigger } from "../../src/profiler";

/**
 * ProfileTrigger.handle tells most request targets apart without parsing a URL. Whatever the target
 * (dot segments, escapes, backslashes, "//", queries, non-ASCII), it must claim exactly the requests
 * whose parsed pathname is the trigger's path: the oracle is WHATWG URL itself.
 */

const claims = (trigger: ProfileTrigger, target: string): boolean => {
  const req = { url: target, method: "GET", headers: {} } as unknown as IncomingMessage;
  // Without the bearer token a claimed request is answered 401 at once; nothing else is touched.
  const res = { writeHead: () => res, end: () => res } as unknown as ServerResponse;
  return trigger.handle(req, res);
};

const pieces = (path: string) =>
  fc.constantFrom(
    ...path.split("/").filter(Boolean),
    "/",
    "//",
    ".",
    "..",
    "%2e",
    "%2F",
    "%5F",
    "\\",
    "?",
    "#",
    " ",
    "é",
    "x",
    "_",
    ":",
    "@",
    ";",
    "~",
    "'",
    '"',
    "seconds=1",
  );
const targets = (path: string) =>
  fc.oneof(
    fc.array(pieces(path), { maxLength: 10 }).map((p) => p.join("")),
    fc.array(pieces(path), { maxLength: 10 }).map((p) => `/${p.join("/")}`),
    fc.constantFrom(path, `${path}?seconds=1`, `/x/..${path}`, `/.${path}`, `//host${path}`, `${path}/`, path.replace("/", "\\")),
  );

describe("ProfileTrigger.handle: which request targets are the trigger's", () => {
  for (const path of [PROFILE_ADMIN_PATH, "/ops/cpu-profile", "/ops/cpu.profile"]) {
    it(`claims a target iff new URL(target).pathname is ${JSON.stringify(path)}`, () => {
      const trigger = new ProfileTrigger({ profiler: new CPUProfiler(), token: "t", path });
      // A target URL parsing refuses ("//") is nobody's: handle answers false, never throws.
      const oracle = (target: string) =>
        URL.canParse(target, "http://localhost") &&
        new URL(target, "http://localhost").pathname === new URL(path, "http://localhost").pathname;
      fc.assert(
        fc.property(targets(path), (target) => {
          expect(claims(trigger, target)).toBe(oracle(target));
        }),
        { numRuns: 2_000 },
      );
    });
  }
});
