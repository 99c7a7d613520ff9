/**
 * Issue #24: runtime/README.md's "Everything exported" tables come from the entry points
 * (tools/runtime-api-doc.ts, `npm run docs`); an export the README does not list, or a listed name
 * the code no longer exports, fails here by name.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { API_END, API_START, apiEntries, apiExports, apiTables, README, renderApi } from "../../tools/runtime-api-doc";

const ROOT = join(__dirname, "..", "..");
const exports = apiExports();
const readme = readFileSync(README, "utf8");

/** `specifier name` for every row of the README's generated section. */
function documented(text: string): Set<string> {
  const section = text.slice(text.indexOf(API_START), text.indexOf(API_END));
  const out = new Set<string>();
  let specifier = "";
  for (const line of section.split("\n")) {
    const heading = /^### `([^`]+)`$/.exec(line);
    if (heading) specifier = heading[1];
    const row = /^\| `([^`]+)` \|/.exec(line);
    if (row) out.add(`${specifier} ${row[1]}`);
  }
  return out;
}

const inCode = new Set([...exports].flatMap(([specifier, names]) => names.map((e) => `${specifier} ${e.name}`)));

describe("runtime/README.md API tables", () => {
  it("list exactly what every entry point exports (run `npm run docs` after changing an index.ts)", () => {
    const listed = documented(readme);
    expect({
      undocumented: [...inCode].filter((n) => !listed.has(n)),
      notExported: [...listed].filter((n) => !inCode.has(n)),
    }).toEqual({
      undocumented: [],
      notExported: [],
    });
    expect(renderApi(readme, apiTables(exports))).toBe(readme);
  });

  it("an export missing from the README is reported by name", () => {
    const [specifier, names] = [...exports][1];
    const dropped = names[0].name;
    const stale = readme
      .split("\n")
      .filter(
        (line, i, lines) =>
          !(
            line.startsWith(`| \`${dropped}\` |`) &&
            lines
              .slice(0, i)
              .reverse()
              .find((l) => l.startsWith("### ")) === `### \`${specifier}\``
          ),
      )
      .join("\n");
    expect([...inCode].filter((n) => !documented(stale).has(n))).toEqual([`${specifier} ${dropped}`]);
    expect(renderApi(stale, apiTables(exports))).not.toBe(stale);
  });

  it("every export says what it is (a doc comment, or the options/schema rule)", () => {
    const silent = [...exports].flatMap(([specifier, names]) =>
      names.filter((e) => !e.summary).map((e) => `${specifier} ${e.name}`),
    );
    expect(silent).toEqual([]);
  });

  it("covers the root and every subpath of runtime/package.json, each mapped for jest and tsc to its index.ts", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "runtime", "package.json"), "utf8"));
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== "./package.json");
    expect(apiEntries().map((e) => e.specifier)).toEqual(
      subpaths.map((s) => (s === "." ? pkg.name : `${pkg.name}/${s.slice(2)}`)),
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jest = require(join(ROOT, "jest.config.js")) as { moduleNameMapper: Record<string, string> };
    const tsconfig = readFileSync(join(ROOT, "tsconfig.json"), "utf8");
    expect(tsconfig).toContain('"@uaip/runtime/*": ["./runtime/src/*/index.ts"]');
    for (const entry of apiEntries()) {
      const mapped = Object.entries(jest.moduleNameMapper).find(([pattern]) => new RegExp(pattern).test(entry.specifier));
      expect([
        entry.specifier,
        mapped && entry.specifier.replace(new RegExp(mapped[0]), mapped[1].replace("<rootDir>", ROOT)),
      ]).toEqual([entry.specifier, entry.source]);
    }
    // The types of node10 consumers (no `exports` support) resolve each subpath too.
    for (const s of subpaths.filter((s) => s !== "."))
      expect(pkg.typesVersions["*"][s.slice(2)]).toEqual([`./dist/${s.slice(2)}/index.d.ts`]);
  });
});
