import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";
import { SECRET_KEYS } from "../../config";

const ROOT = join(__dirname, "..", "..");
const VENDORED_SCHEMA = join(ROOT, "test", "fixtures", "pulumi-project.schema.json");
const SHARED_SCHEMA = join(ROOT, "..", "shared", "schemas", "pulumi-project.schema.json");

function validator() {
  const schema = JSON.parse(readFileSync(VENDORED_SCHEMA, "utf8"));
  return new Ajv2020({ strict: false, allErrors: true }).compile(schema);
}

describe("Pulumi.yaml", () => {
  const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8"));

  it("validates against Pulumi's project schema", () => {
    const validate = validator();
    expect(validate(project)).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
  });

  it("the schema check can fail: a structured config type is rejected", () => {
    const validate = validator();
    const bad = {
      ...project,
      config: { ...project.config, services: { type: "object", description: "not allowed at project level" } },
    };
    expect(validate(bad)).toBe(false);
  });

  it("declares every simple key with a description and a default (the CLI requires a key without one in every stack)", () => {
    for (const [key, decl] of Object.entries(project.config as Record<string, { description?: string; default?: unknown }>)) {
      expect([key, typeof decl.description, decl.default !== undefined]).toEqual([key, "string", true]);
    }
  });

  it("every secret config.ts reads is declared with the --secret instruction, and none is secret: true with a default (the CLI would refuse every stack that leaves it unset)", () => {
    const config = project.config as Record<string, { description?: string; default?: unknown; secret?: boolean }>;
    for (const key of SECRET_KEYS) {
      expect([key, config[key]?.description]).toEqual([key, expect.stringContaining("pulumi config set --secret")]);
    }
    for (const [key, decl] of Object.entries(config))
      expect([key, decl.secret === true && decl.default !== undefined]).toEqual([key, false]);
  });

  it("uses the same schema as shared/schemas when that copy is present", () => {
    if (!existsSync(SHARED_SCHEMA)) return;
    expect(readFileSync(VENDORED_SCHEMA, "utf8")).toBe(readFileSync(SHARED_SCHEMA, "utf8"));
  });
});
