/**
 * Loads TypeScript the way the Pulumi CLI's Node.js host does (@pulumi/pulumi/cmd/run/run.js):
 * its vendored ts-node 7 with type checking on, the project's TypeScript and tsconfig, and
 * nodenext defaults overridden by the tsconfig's compilerOptions. Then runs the given script.
 *   node test/helpers/pulumi-ts-node.js tools/plan.ts --stack dev
 */
const path = require("node:path");
const root = path.join(__dirname, "..", "..");
const vendored = require("node:fs")
  .readdirSync(path.join(root, "node_modules/@pulumi/pulumi/vendor"))
  .find((d) => d.startsWith("ts-node@"));
const tsconfig = require(path.join(root, "tsconfig.json"));
require(path.join(root, "node_modules/@pulumi/pulumi/vendor", vendored)).register({
  compiler: require.resolve("typescript", { paths: [root] }),
  transpileOnly: process.env.PULUMI_NODEJS_TRANSPILE_ONLY === "true",
  project: path.join(root, "tsconfig.json"),
  compilerOptions: {
    target: "ES2020",
    module: "nodenext",
    moduleResolution: "nodenext",
    sourceMap: "true",
    ...tsconfig.compilerOptions,
  },
});
const script = path.resolve(process.argv[2]);
process.argv.splice(1, 2, script);
require(script);
