import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { providerConfigKeys, readStackConfig } from "../../tools/stack-file";
import { ROOT } from "../helpers/plan";

/** The project's real Pulumi.yaml with one stack file `text`; returns readStackConfig's error message or config. */
function read(text: string): { error?: string; config?: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "uaip-stack-file-"));
  copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  writeFileSync(join(dir, "Pulumi.t.yaml"), text);
  try {
    return { config: readStackConfig(dir, "t").config };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe("a stack file without a config map says so", () => {
  it.each([
    ["a list", "- uaip:environment: dev\n", /it is a list/],
    ["a scalar", "dev\n", /it is a scalar/],
    ["empty", "", /it is empty/],
    ["confg: instead of config:", "confg:\n  uaip:environment: dev\n", /did you mean config: instead of confg:\?/],
    ["config: as a list", "config:\n  - uaip:environment\n", /config is \["uaip:environment"\]/],
  ])("%s", (_case, text, detail) => {
    const { error } = read(text);
    expect(error).toMatch(/this file has no config map/);
    expect(error).toMatch(detail);
  });
});

describe("provider keys: a key the provider would ignore is refused", () => {
  it("aws:regoin -> did you mean aws:region? (it would silently fall back to us-east-1)", () => {
    expect(read("config:\n  aws:regoin: eu-west-1\n").error).toMatch(
      /aws:regoin: the aws provider has no key "regoin" and would ignore it; did you mean aws:region\?/,
    );
  });

  it("a namespace that is a near miss of a provider's", () => {
    expect(read("config:\n  awss:region: eu-west-1\n").error).toMatch(
      /awss:region: unknown config namespace "awss"; did you mean aws:region\?/,
    );
  });

  it("another namespace is someone else's and left alone; real provider keys pass", () => {
    expect(
      read("config:\n  aws:region: eu-west-1\n  aws:defaultTags: { tags: { a: b } }\n  mycorp:owner: me\n").config,
    ).toMatchObject({
      "aws:region": "eu-west-1",
      "mycorp:owner": "me",
    });
  });

  it("the aws key list comes from the installed provider SDK", () => {
    expect(providerConfigKeys("aws")).toEqual(
      expect.arrayContaining(["region", "profile", "defaultTags", "skipCredentialsValidation"]),
    );
    expect(providerConfigKeys("not-a-provider")).toBeUndefined();
  });

  it("property: one edit of any aws key is caught with that key as the suggestion", () => {
    const known = providerConfigKeys("aws")!.filter((k) => k.length >= 6);
    fc.assert(
      fc.property(fc.constantFrom(...known), fc.nat(), (key, at) => {
        const i = at % key.length;
        const typo = key.slice(0, i) + key.slice(i + 1);
        fc.pre(!providerConfigKeys("aws")!.includes(typo));
        const { error } = read(`config:\n  aws:${typo}: x\n`);
        expect(error).toMatch(new RegExp(`aws:${typo}: the aws provider has no key`));
      }),
      { numRuns: 30 },
    );
  });
});

describe("secrets in plain text are refused with the command that stores them", () => {
  it.each(["grafanaAdminPassword", "alertWebhookUrl"])("uaip:%s", (key) => {
    const { error } = read(`config:\n  uaip:${key}: hunter2-hunter2\n`);
    expect(error).toContain(`uaip:${key}: a secret written in plain text`);
    expect(error).toContain(`pulumi config set --secret uaip:${key} <value> -s t`);
    expect(error).not.toContain("hunter2");
  });

  it("a secure: value and the empty default pass", () => {
    expect(read("config:\n  uaip:grafanaAdminPassword:\n    secure: v1:abc\n").error).toBeUndefined();
    expect(read('config:\n  uaip:grafanaAdminPassword: ""\n').error).toBeUndefined();
  });
});

describe("numbers JSON cannot carry are shown as written", () => {
  it.each([".nan", ".NaN", ".inf", "-.inf", "1e400", "-1e400"])("%s", (text) => {
    const { error } = read(`config:\n  uaip:database:\n    maxConnections: ${text}\n`);
    expect(error).toContain(`uaip:database.maxConnections: expected a finite number, got ${text}`);
    expect(error).not.toMatch(/got null/);
  });

  it("property: an integer beyond 2^53 - 1 is shown as written, never as the nearby double", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n }), (n) => {
        const { error } = read(`config:\n  uaip:runtime:\n    cache:\n      memory:\n        maxSize: ${n}\n`);
        expect(error).toContain(`uaip:runtime.cache.memory.maxSize: ${n} is beyond 2^53`);
      }),
      { numRuns: 20 },
    );
  });

  it("2^53 - 1 itself passes the reader", () => {
    expect(
      read("config:\n  uaip:runtime:\n    cache:\n      memory:\n        maxSize: 9007199254740991\n").error,
    ).toBeUndefined();
  });

  it("every bad key of the file at once: a typo'd provider key, a plaintext secret and a .nan", () => {
    const { error } = read(
      "config:\n  aws:regoin: x\n  uaip:grafanaAdminPassword: pw-pw-pw-pw\n  uaip:database: { maxConnections: .nan }\n",
    );
    expect(error).toContain("aws:regoin");
    expect(error).toContain("uaip:grafanaAdminPassword");
    expect(error).toContain("uaip:database.maxConnections");
  });
});

describe("merge keys behave as in the Pulumi CLI (gopkg.in/yaml.v3 resolves them)", () => {
  it("<<: *svc merges the anchor, and the entry's own keys win", () => {
    const { config } = read(
      "config:\n  uaip:environment: local\n  uaip:services:\n    - &svc { name: a, port: 3001, pool: { min: 1, max: 4 } }\n    - <<: *svc\n      name: b\n      port: 3002\n",
    );
    expect(JSON.parse(config!["uaip:services"]!)).toEqual([
      { name: "a", port: 3001, pool: { min: 1, max: 4 } },
      { name: "b", port: 3002, pool: { min: 1, max: 4 } },
    ]);
  });
});
