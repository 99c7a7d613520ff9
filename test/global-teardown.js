const { rmSync } = require("node:fs");
const { basename, dirname } = require("node:path");

/** Removes the run's temporary directory (jest.config.js): everything the tests wrote under os.tmpdir(). */
module.exports = async () => {
  const dir = process.env.UAIP_JEST_TMPDIR;
  // Only the directory jest.config.js made, never whatever TMPDIR happens to be.
  if (dir && basename(dir).startsWith("uaip-jest-") && dirname(dir) === process.env.UAIP_SHARED_TMPDIR)
    rmSync(dir, { recursive: true, force: true });
};
