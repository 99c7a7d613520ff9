import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contextHash } from "../../../components/k8s/context-hash";

/**
 * The image tag is a hash of exactly what `docker build` sends. Before it followed the context's
 * .dockerignore, a scratch folder in the repository (a test packing the runtime into
 * runtime/.pack-*) changed the dev plan's image tag between two plans of the same commit.
 */
function context(): string {
  const dir = mkdtempSync(join(tmpdir(), "uaip-context-"));
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "index.ts"), "export {};\n");
  writeFileSync(join(dir, "Dockerfile"), "FROM node:20.20.2-bookworm-slim\n");
  writeFileSync(join(dir, ".dockerignore"), "**\n!Dockerfile\n!src/**\n");
  return dir;
}

describe("contextHash", () => {
  it("ignores files the .dockerignore leaves out of the build context", () => {
    const dir = context();
    const before = contextHash(dir, "Dockerfile");
    mkdirSync(join(dir, "scratch"));
    writeFileSync(join(dir, "scratch", "report.json"), "{}");
    writeFileSync(join(dir, "notes.md"), "# notes");
    expect(contextHash(dir, "Dockerfile")).toBe(before);
  });

  it("changes when a file the build receives changes, or the Dockerfile path does", () => {
    const dir = context();
    const before = contextHash(dir, "Dockerfile");
    writeFileSync(join(dir, "src", "index.ts"), "export const changed = 1;\n");
    const after = contextHash(dir, "Dockerfile");
    expect(after).not.toBe(before);
    expect(contextHash(dir, "other/Dockerfile")).not.toBe(after);
  });

  it("without a .dockerignore, leaves out node_modules, .git, dist and coverage", () => {
    const dir = mkdtempSync(join(tmpdir(), "uaip-context-"));
    writeFileSync(join(dir, "index.js"), "1");
    const before = contextHash(dir, "Dockerfile");
    for (const skipped of ["node_modules", "dist", "coverage"]) {
      mkdirSync(join(dir, skipped));
      writeFileSync(join(dir, skipped, "x.js"), "2");
    }
    expect(contextHash(dir, "Dockerfile")).toBe(before);
  });
});
