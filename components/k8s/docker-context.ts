import { readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";

/**
 * Which files `docker build` sends for a context directory and its .dockerignore, by Docker's rules:
 * patterns are matched against the slash-separated path from the context root (`*` within a
 * segment, `**` across segments), a pattern that matches a directory matches everything under it,
 * `!` re-includes, and the last pattern that matches a path decides.
 */
export function dockerIgnoreMatcher(ignoreFile: string): (path: string) => boolean {
  const rules = ignoreFile
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, "");
      const source = pattern
        .split("/")
        .map((seg) =>
          seg === "**"
            ? "(?:.*)"
            : seg
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\*/g, "[^/]*")
                .replace(/\?/g, "[^/]"),
        )
        .join("/")
        .replace(/\(\?:\.\*\)\//g, "(?:.*/)?");
      return { negate, regex: new RegExp(`^${source}(?:/.*)?$`) };
    });
  return (path: string) => {
    let excluded = false;
    for (const rule of rules) if (rule.regex.test(path)) excluded = !rule.negate;
    return excluded;
  };
}

/**
 * Every file of `root` that Docker would send, as sorted paths relative to `root`. `.git` and
 * `node_modules` folders are never walked (a context that sends them is a mistake anyway).
 */
export function dockerContextFiles(root: string, ignoreFile: string): string[] {
  const excluded = dockerIgnoreMatcher(ignoreFile);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === ".git" || entry.name === "node_modules") continue;
      const full = join(dir, entry.name);
      const rel = relative(root, full).split(sep).join("/");
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && !excluded(rel)) out.push(rel);
    }
  };
  walk(root);
  return out.sort();
}
