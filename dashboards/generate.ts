/**
 * `npm run generate`: writes every generated monitoring file (files.ts) under dashboards/.
 * Run it after changing a builder; a test fails while the committed files are out of date.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generatedFiles } from "./files";

function main(): void {
  for (const [path, content] of Object.entries(generatedFiles())) {
    const target = join(__dirname, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    console.log(`wrote dashboards/${path}`);
  }
}

main();
