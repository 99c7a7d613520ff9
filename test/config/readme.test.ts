import { readFileSync } from "node:fs";
import { join } from "node:path";
import { profileTable, renderReadme } from "../../tools/profile-doc";

const README = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");

describe("README", () => {
  it("opens with the plan command and the test command", () => {
    const firstBlock = README.slice(README.indexOf("```bash"), README.indexOf("```", README.indexOf("```bash") + 7));
    expect(firstBlock).toContain("npm ci && npm run plan -- --stack dev");
    expect(firstBlock).toContain("apt-get install -y redis-server prometheus && npm test");
  });

  it("has the current profile table (run `npm run docs` after changing presets)", () => {
    expect(renderReadme(README)).toBe(README);
  });

  it("documents every profile key for every environment", () => {
    expect(profileTable()).toMatch(
      /\| `database\.instanceClass` \| `db\.t4g\.micro` \| `db\.t4g\.medium` \| `db\.r7g\.large` \|/,
    );
    expect(profileTable()).toContain("| `runtime.batching.batchSize` | `100` |");
  });
});
