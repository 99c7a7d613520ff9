import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ComponentArgsError } from "../../profile/errors";

const SKIP = new Set(["node_modules", ".git", "dist", "coverage"]);

/**
 * A content hash of a Docker build context: the image tag. ECR repositories are tag-immutable,
 * so a tag must name exactly one build; the same sources always give the same tag.
 */
export function contextHash(context: string, dockerfile: string): string {
  let stat;
  try {
    stat = statSync(context);
  } catch (err) {
    throw new ComponentArgsError("build.context", `"${context}" does not exist; point it at the service's source folder`, {
      cause: err,
    });
  }
  if (!stat.isDirectory()) throw new ComponentArgsError("build.context", `"${context}" is not a folder`);
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (SKIP.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) hash.update(relative(context, path)).update("\0").update(readFileSync(path)).update("\0");
    }
  };
  walk(context);
  hash.update(`dockerfile:${dockerfile}`);
  return hash.digest("hex").slice(0, 16);
}
