import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listStacks, readStackConfig, SECRET_PLACEHOLDER } from "../../tools/stack-file";

/** A throwaway project folder with the given Pulumi.yaml and stack files. */
function project(pulumiYaml: string, stacks: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "uaip-project-"));
  writeFileSync(join(dir, "Pulumi.yaml"), pulumiYaml);
  for (const [name, text] of Object.entries(stacks)) writeFileSync(join(dir, `Pulumi.${name}.yaml`), text);
  return dir;
}

const PROJECT = `name: demo
runtime: nodejs
config:
  environment: { type: string, default: "" }
  replicas: { type: integer, default: 2 }
  token: { type: string, secret: true, default: "" }
`;

describe("reading stack config as the Pulumi CLI hands it to the program", () => {
  it("namespaces bare keys, JSON-encodes structured values and hides secure: ones", () => {
    const dir = project(PROJECT, {
      dev: "config:\n  aws:region: eu-west-1\n  size: 3\n  demo:db: { class: small }\n  demo:pw:\n    secure: v1:abc\n",
    });
    const { config, secretKeys } = readStackConfig(dir, "dev");
    expect(config).toMatchObject({
      "aws:region": "eu-west-1",
      "demo:size": "3",
      "demo:db": '{"class":"small"}',
      "demo:pw": SECRET_PLACEHOLDER,
    });
    expect(secretKeys).toEqual(["demo:pw"]);
  });

  it("applies Pulumi.yaml defaults for declared keys the stack leaves out", () => {
    const { config } = readStackConfig(project(PROJECT, { dev: "config: {}\n" }), "dev");
    expect(config).toMatchObject({ "demo:environment": "", "demo:replicas": "2" });
  });

  it("fails like the CLI when a declared key without a default is missing", () => {
    const dir = project("name: demo\nruntime: nodejs\nconfig:\n  region: { type: string }\n  zone: { type: string }\n", {
      dev: "config: {}\n",
    });
    expect(() => readStackConfig(dir, "dev")).toThrow("Stack 'dev' is missing configuration value(s) 'region', 'zone'");
  });

  it("fails like the CLI when a key declared secret is set in plain text", () => {
    const dir = project(PROJECT, { dev: "config:\n  demo:token: plain\n" });
    expect(() => readStackConfig(dir, "dev")).toThrow(
      "Stack 'dev' with configuration key 'token' must be encrypted as it's secret",
    );
  });

  it("names the stacks it can plan when the file is missing", () => {
    const dir = project(PROJECT, { dev: "config: {}\n", prod: "config: {}\n" });
    expect(listStacks(dir)).toEqual(["dev", "prod"]);
    expect(() => readStackConfig(dir, "qa")).toThrow(/no stack file .*Pulumi\.qa\.yaml; stacks here: dev, prod/);
  });
});
