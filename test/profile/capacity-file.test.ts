import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { capacityFilePath, capacityFileSchema } from "../../profile/capacity-file";
import { SEED_SERVICES } from "../../profile/presets";

const ROOT = join(__dirname, "..", "..");

describe("capacityFilePath", () => {
  it("each seed service's measured capacity is at its path, in the schema the plan reads", () => {
    for (const { name } of SEED_SERVICES) {
      const path = capacityFilePath(name);
      expect(path).toBe(`capacity/${name}.json`);
      const file = capacityFileSchema.parse(JSON.parse(readFileSync(join(ROOT, path), "utf8")));
      expect(file.service).toBe(name);
    }
    expect(existsSync(join(ROOT, capacityFilePath("no-such-service")))).toBe(false);
  });
});
