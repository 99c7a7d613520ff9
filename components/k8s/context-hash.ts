import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ComponentArgsError } from "../../profile/errors";
import { dockerContextFiles } from "./docker-context";

/** Left out when the context has no .dockerignore of its own. */
const SKIP = ["node_modules", ".git", "dist", "coverage"];

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
  // Exactly what `docker build` sends: the context's .dockerignore decides, so files it leaves out
  // (scratch folders, reports, other tools' output) never change the tag.
  const ignorePath = join(context, ".dockerignore");
  const ignore = existsSync(ignorePath) ? readFileSync(ignorePath, "utf8") : SKIP.map((name) => `**/${name}`).join("\n");
  for (const file of dockerContextFiles(context, ignore)) {
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(join(context, file)))
      .update("\0");
  }
  hash.update(`dockerfile:${dockerfile}`);
  return hash.digest("hex").slice(0, 16);
}
