import { existsSync } from "node:fs";
import { join } from "node:path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SLOWEST } = require("../sequencer.js") as { SLOWEST: Record<string, number> };

describe("test/sequencer.js", () => {
  it("names only test files that exist (a renamed file would silently lose its place at the front)", () => {
    const missing = Object.keys(SLOWEST).filter((file) => !existsSync(join(__dirname, "..", "..", file)));
    expect(missing).toEqual([]);
    for (const seconds of Object.values(SLOWEST)) expect(seconds).toBeGreaterThan(0);
  });
});
