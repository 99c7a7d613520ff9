const { chmodSync, mkdirSync, readdirSync, rmSync } = require("node:fs");
const { join } = require("node:path");

/** Whether process `pid` still runs. */
function running(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/**
 * (Re)creates the run's temporary directory (jest.config.js names it and sets TMPDIR): global-teardown.js
 * removes it after each run, and a process that runs jest more than once (Stryker, once per mutant) must get a
 * fresh one, with an empty plan cache, every time. A run killed before its teardown (Stryker ends a test runner
 * that timed out) leaves its directory behind: those of processes that are gone are removed here.
 */
module.exports = async () => {
  const shared = process.env.UAIP_SHARED_TMPDIR;
  for (const entry of readdirSync(shared)) {
    const pid = /^uaip-jest-(\d+)-[0-9a-f]+$/.exec(entry)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && !running(Number(pid)))
      rmSync(join(shared, entry), { recursive: true, force: true });
  }
  mkdirSync(process.env.UAIP_PLAN_CACHE, { recursive: true });
  // The same mode as /tmp: PostgreSQL's initdb and server run as an unprivileged user (tools/local-servers) and
  // must reach their own directories in here.
  chmodSync(process.env.UAIP_JEST_TMPDIR, 0o1777);
};
