import fc from "fast-check";
import regions from "../../vendor/aws/regions.json";
import { dnsNameIssue, iamRoleArnIssue, parseCertificateArn, partitionOfArn, rdsNameIssue } from "../../profile/aws-identifiers";

/**
 * The identifier shapes at their edges (issue #22: Stryker's survivors in profile/aws-identifiers.ts). Limits come
 * from AWS's documentation, written here, not read from the code: ACM ids are lowercase UUIDs, account ids 12 digits
 * (ARN format, IAM User Guide), IAM role names 1..64 of [\w+=,.@-] and paths "/" or "/.../" of at most 512 printable
 * ASCII characters (IAM API reference, CreateRole), DNS labels 1..63 and names 253 (RFC 1035), RDS for PostgreSQL
 * MasterUsername 1..16 and DBName 1..63 (RDS API reference, CreateDBInstance).
 */

const ACCOUNT = "123456789012";
const UUID = "0a1b2c3d-4e5f-4789-abcd-ef0123456789";
const cert = (parts: { partition?: string; region?: string; account?: string; id?: string } = {}) =>
  `arn:${parts.partition ?? "aws"}:acm:${parts.region ?? "us-east-1"}:${parts.account ?? ACCOUNT}:certificate/${parts.id ?? UUID}`;
const hex = "0123456789abcdef".split("");
describe("parseCertificateArn at the edges of the ARN's shape", () => {
  it("anything before arn: or after the id (a newline included) is not a certificate ARN", () => {
    expect(parseCertificateArn(cert())).toEqual({ partition: "aws", region: "us-east-1", account: ACCOUNT, id: UUID });
    for (const text of [`x${cert()}`, ` ${cert()}`, `${cert()}\nx`, `${cert()}x`, `${cert()} `])
      expect(parseCertificateArn(text)).toEqual(expect.any(String));
    const noArn = parseCertificateArn(`x${cert()}`) as string;
    expect(noArn).toMatch(/arn:<partition>:acm:<region>:<account>:certificate\/<id>/);
  });

  it("accounts: 12 digits pass; 11, 13 and non-digits fail naming the value and the 12 digits", () => {
    expect(parseCertificateArn(cert({ account: "000000000000" }))).toEqual(expect.objectContaining({ account: "000000000000" }));
    for (const account of ["12345678901", "1234567890123", "12345678901a", "a23456789012", ""]) {
      const issue = parseCertificateArn(cert({ account }));
      expect(issue).toEqual(expect.stringContaining(`"${account}"`));
      expect(issue).toEqual(expect.stringContaining("12 digits"));
    }
  });

  it("property: an id passes exactly when it is lowercase hex grouped 8-4-4-4-12", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 14 }), { minLength: 1, maxLength: 6 }), fc.nat(), (lengths, seed) => {
        const groups = lengths.map((n, i) => hex[(seed + i) % 16]!.repeat(n));
        const id = groups.join("-");
        const valid = lengths.join(",") === "8,4,4,4,12";
        const parsed = parseCertificateArn(cert({ id }));
        if (valid) expect(parsed).toEqual(expect.objectContaining({ id }));
        else expect(parsed).toEqual(expect.stringContaining(`"${id}"`));
      }),
    );
    fc.assert(
      fc.property(fc.uuid(), fc.constantFrom("A", "g", " ", "-", "x"), fc.boolean(), (id, extra, before) => {
        const bad = before ? `${extra}${id}` : `${id}${extra}`;
        expect(parseCertificateArn(cert({ id: bad }))).toEqual(expect.stringContaining("lowercase UUIDs"));
      }),
    );
    expect(parseCertificateArn(cert({ id: UUID.toUpperCase() }))).toEqual(expect.stringContaining("lowercase UUIDs"));
  });

  it("the partition and the region's are named in the refusal, with the partition the region belongs to", () => {
    const wrong = parseCertificateArn(cert({ partition: "aws-us-gov", region: "cn-north-1" })) as string;
    expect(wrong).toMatch(/cn-north-1.*"aws-us-gov".*"aws-cn"/);
    expect(parseCertificateArn(cert({ partition: "aws-mars" }))).toMatch(/"aws-mars".*aws, aws-cn/);
  });
});

describe("iamRoleArnIssue: CreateRole's name and path rules", () => {
  const role = (rest: string, account = ACCOUNT, partition = "aws") => `arn:${partition}:iam::${account}:role/${rest}`;
  const NAME_CHARS = "abcXYZ019+=,.@_-".split("");
  const name = (min: number, max: number) =>
    fc.array(fc.constantFrom(...NAME_CHARS), { minLength: min, maxLength: max }).map((a) => a.join(""));

  it("names of 1 and 64 characters pass; 0 and 65 fail, naming the name", () => {
    expect(iamRoleArnIssue(role("a"))).toBeUndefined();
    expect(iamRoleArnIssue(role("r".repeat(64)))).toBeUndefined();
    expect(iamRoleArnIssue(role(""))).toMatch(/role name "";.*1 to 64/);
    expect(iamRoleArnIssue(role("r".repeat(65)))).toMatch(new RegExp(`role name "r{65}";.*1 to 64`));
  });

  it("property: a name passes exactly when it has 1..64 of letters, digits and + = , . @ _ -", () => {
    fc.assert(
      fc.property(name(1, 70), fc.constantFrom("", "!", "*", " ", "é", "#"), fc.nat(), (base, bad, at) => {
        const n = bad ? base.slice(0, at % (base.length + 1)) + bad + base.slice(at % (base.length + 1)) : base;
        const ok = !bad && n.length >= 1 && n.length <= 64;
        expect(iamRoleArnIssue(role(n)) === undefined).toBe(ok);
      }),
    );
  });

  it("accounts of 12 digits pass; 11, 13 or letters fail; so does a partition AWS does not have, or no role ARN at all", () => {
    expect(iamRoleArnIssue(role("admin", "000000000000"))).toBeUndefined();
    for (const account of ["12345678901", "1234567890123", "12345678901x"])
      expect(iamRoleArnIssue(role("admin", account))).toMatch(new RegExp(`account "${account}"; .*12 digits`));
    expect(iamRoleArnIssue(role("admin", ACCOUNT, "aws-cn"))).toBeUndefined();
    const partitions = regions.partitions.map((x) => x.id).join(", ");
    expect(iamRoleArnIssue(role("admin", ACCOUNT, "aws-mars"))).toBe(
      `has partition "aws-mars", which AWS does not have (${partitions})`,
    );
    for (const text of [`x${role("admin")}`, role("admin").replace(":role/", ":user/"), `${role("admin")}\nx`])
      expect(iamRoleArnIssue(text)).toMatch(/is not an IAM role ARN/);
  });

  it("paths: a path of 512 characters passes, 513 fails; an empty path segment fails", () => {
    expect(iamRoleArnIssue(role("team/ci/admin"))).toBeUndefined();
    expect(iamRoleArnIssue(role("/admin"))).toMatch(/has path "\/\/"/);
    // The path as IAM counts it includes the "/" at both ends: "/" + segment + "/".
    const segment = (n: number) => "p".repeat(n);
    expect(iamRoleArnIssue(role(`${segment(510)}/admin`))).toBeUndefined();
    expect(iamRoleArnIssue(role(`${segment(511)}/admin`))).toMatch(/512 characters at most/);
    expect(iamRoleArnIssue(role(`${segment(200)}/${segment(309)}/admin`))).toBeUndefined();
    expect(iamRoleArnIssue(role(`${segment(200)}/${segment(310)}/admin`))).toMatch(/512 characters at most/);
  });

  it("property: a path segment of any printable ASCII from ! to DEL passes (CreateRole's Path); a space or a non-ASCII character fails", () => {
    const printable = fc.integer({ min: 0x21, max: 0x7f }).map((c) => String.fromCharCode(c));
    const segment = fc.array(printable, { minLength: 1, maxLength: 30 }).map((a) => a.join(""));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), name(1, 64), (segments, n) => {
        expect(iamRoleArnIssue(role(`${segments.join("/")}/${n}`))).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(segment, fc.constantFrom(" ", "\t", "é", "\u0080", "\u00a0"), (seg, bad) => {
        expect(iamRoleArnIssue(role(`${seg}${bad}/admin`))).toMatch(/has path ".*"; IAM paths start and end with "\/"/);
      }),
    );
  });
});

describe("partitionOfArn", () => {
  it("reads the whole partition of an ARN, and nothing from a text that does not start with arn:", () => {
    expect(partitionOfArn("arn:aws-us-gov:iam::123456789012:role/a")).toBe("aws-us-gov");
    expect(partitionOfArn("arn:aws:s3:::bucket")).toBe("aws");
    for (const text of ["xarn:aws:iam::1:role/a", "arn::iam", "not an arn", ""]) expect(partitionOfArn(text)).toBeUndefined();
  });
});

describe("dnsNameIssue at its edges", () => {
  it("two labels are enough; one is not", () => {
    expect(dnsNameIssue("uaip.org")).toBeUndefined();
    expect(dnsNameIssue("a.b")).toBeUndefined();
    expect(dnsNameIssue("localhost")).toMatch(/single label/);
  });

  it("empty labels fail wherever they are", () => {
    for (const name of ["a..org", ".a.org", "a.org."]) expect(dnsNameIssue(name)).toMatch(/empty label/);
  });

  it("a label may not start or end with a hyphen, nor hold another character anywhere", () => {
    for (const name of ["-a.org", "a-.org", "a.-org", "a.org-"])
      expect(dnsNameIssue(name)).toMatch(/starts or ends with a hyphen/);
    for (const name of ["_a.org", "a_.org", "A.org", "a.b_c.org"])
      expect(dnsNameIssue(name)).toMatch(/characters DNS names cannot have/);
    expect(dnsNameIssue("a-b.c-d.org")).toBeUndefined();
  });

  it("a numeric top-level label fails; digits elsewhere, or a TLD that only contains a digit, pass", () => {
    for (const name of ["host.123", "a1.2.3.4", "x.1.2.3.4"]) expect(dnsNameIssue(name)).toMatch(/all-digit label/);
    for (const name of ["1.2.3.4a", "123.a1", "host.1a", "10.0.0.org"]) expect(dnsNameIssue(name)).toBeUndefined();
  });

  it("property: dotted quads of 1-3 digit numbers are refused as IP addresses; 4-digit parts are names with an all-digit label", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 4, maxLength: 4 }), (parts) => {
        expect(dnsNameIssue(parts.join("."))).toMatch(/is an IP address/);
        expect(dnsNameIssue(`1000.${parts.join(".")}`)).toMatch(/all-digit label/);
      }),
    );
  });
});

describe("rdsNameIssue at its edges (CreateDBInstance: MasterUsername 1..16, DBName 1..63)", () => {
  it.each([
    ["masterUsername", 16, "master user names"],
    ["dbName", 63, "database names"],
  ] as const)("%s: 1 and %i characters pass; 0 and one more fail, naming the count and the range", (kind, max, what) => {
    expect(rdsNameIssue(kind, "a")).toBeUndefined();
    expect(rdsNameIssue(kind, "a".repeat(max))).toBeUndefined();
    expect(rdsNameIssue(kind, "")).toBe(`has 0 characters; RDS for PostgreSQL ${what} have 1 to ${max}`);
    expect(rdsNameIssue(kind, "a".repeat(max + 1))).toBe(
      `has ${max + 1} characters; RDS for PostgreSQL ${what} have 1 to ${max}`,
    );
  });

  it("the first character and the rest: each refusal names what it found", () => {
    expect(rdsNameIssue("dbName", "_a")).toMatch(/^starts with "_"; .*database names start with a letter/);
    expect(rdsNameIssue("masterUsername", "9a")).toMatch(/^starts with "9"; .*master user names start with a letter/);
    for (const name of ["a-b", "ab-", "a b", "ab$"])
      expect(rdsNameIssue("dbName", name)).toMatch(/letters, digits and underscores/);
  });

  it("reserved words and existing databases are refused in any case; an existing database is a fine user name", () => {
    for (const name of ["SELECT", "Select", "select"])
      expect(rdsNameIssue("masterUsername", name)).toMatch(/reserved by PostgreSQL/);
    for (const name of ["Postgres", "TEMPLATE1", "rdsadmin"])
      expect(rdsNameIssue("dbName", name)).toMatch(
        /every RDS for PostgreSQL instance already has \(postgres, template0, template1, rdsadmin\)/,
      );
    expect(rdsNameIssue("masterUsername", "Postgres")).toBeUndefined();
  });
});
