/**
 * What the local servers need from the machine: their binaries (with the install line when one is
 * missing) and free loopback ports. Used by the tests, `npm run load` and `npm run bench`.
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";

export const SYSTEM_PACKAGES_INSTALL = "apt-get update && apt-get install -y redis-server prometheus";

/** Stops with the exact install line when a system binary a local server needs is missing. */
export function requireBinary(name: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) {
    throw new Error(`${name} is not installed. Run: ${SYSTEM_PACKAGES_INSTALL}`);
  }
  return path;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
