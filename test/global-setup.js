const { chmodSync, mkdirSync } = require("node:fs");

/**
 * (Re)creates the run's temporary directory (jest.config.js names it and sets TMPDIR): global-teardown.js
 * removes it after each run, and a process that runs jest more than once (Stryker, once per mutant) must get a
 * fresh one, with an empty plan cache, every time.
 */
module.exports = async () => {
  mkdirSync(process.env.UAIP_PLAN_CACHE, { recursive: true });
  // The same mode as /tmp: PostgreSQL's initdb and server run as an unprivileged user (tools/local-servers) and
  // must reach their own directories in here.
  chmodSync(process.env.UAIP_JEST_TMPDIR, 0o1777);
};
