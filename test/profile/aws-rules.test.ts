import fc from "fast-check";
import ec2 from "../../vendor/aws/ec2-instance-types.json";
import elasticache from "../../vendor/aws/elasticache-node-types.json";
import regions from "../../vendor/aws/regions.json";
import { dnsNameIssue, iamRoleArnIssue, parseCertificateArn, rdsNameIssue } from "../../profile/aws-identifiers";
import { awsProfileIssues, awsRegionIssues, platformIssue, vpcCidrIssue } from "../../profile/aws-rules";
import { parseConfig } from "../../profile/parse";
import { ENVIRONMENTS, type Profile } from "../../profile/schema";
import { parseIssues } from "../helpers/profile-issues";

const dev = (extra: Record<string, unknown>) => ({ environment: "dev", ...extra });
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-4789-abcd-ef0123456789";
const profile = (extra: Record<string, unknown> = {}): Profile => parseConfig(dev(extra));
const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789".split("");
const word = (min: number, max: number) =>
  fc.array(fc.constantFrom(...lowerAlnum), { minLength: min, maxLength: max }).map((a) => a.join(""));

describe("RDS for PostgreSQL names: one rule for the master user and the database (CreateDBInstance constraints)", () => {
  it("master user names: 16 characters pass, 17 fail, with the key, the value as written and the fix", () => {
    const ok = "u" + "x".repeat(15);
    const long = ok + "x";
    expect(parseIssues(dev({ database: { username: ok } }))).toEqual([]);
    expect(parseIssues(dev({ database: { username: long } }))).toEqual([
      {
        path: "database.username",
        message: `"${long}" has 17 characters; RDS for PostgreSQL master user names have 1 to 16; RDS refuses it as the master user: pick another, e.g. "uaip"`,
      },
    ]);
  });

  it("database names: 63 characters pass, 64 fail (parse refuses 64 already by its pattern; the rule itself too)", () => {
    expect(rdsNameIssue("dbName", "d" + "x".repeat(62))).toBeUndefined();
    expect(rdsNameIssue("dbName", "d" + "x".repeat(63))).toMatch(/has 64 characters; .* 1 to 63/);
  });

  it("property: a name is accepted exactly when it has 1..max letters/digits/underscores, starts with a letter and is no reserved or existing name", () => {
    const reserved = new Set(["user", "select", "table", "postgres", "template0", "template1", "rdsadmin", "all", "order"]);
    const chars = fc.constantFrom(..."abcxyz_019AZ-.$ ".split(""));
    fc.assert(
      fc.property(
        fc.constantFrom("masterUsername" as const, "dbName" as const),
        fc.array(chars, { maxLength: 70 }),
        (kind, cs) => {
          const name = cs.join("");
          const max = kind === "masterUsername" ? 16 : 63;
          const shapeOk = name.length >= 1 && name.length <= max && /^[A-Za-z]\w*$/.test(name);
          const issue = rdsNameIssue(kind, name);
          if (!shapeOk) expect(issue).toBeDefined();
          else if (!reserved.has(name.toLowerCase())) expect(issue).toBeUndefined();
        },
      ),
    );
  });

  it.each([
    ["username", "user", /"user" is reserved by PostgreSQL/],
    ["username", "rdsadmin", /"rdsadmin" is reserved by RDS or PostgreSQL/],
    ["name", "select", /"select" is reserved by PostgreSQL/],
    ["name", "postgres", /"postgres" is a database every RDS for PostgreSQL instance already has/],
    ["name", "template1", /"template1" is a database every/],
  ])("database.%s %j fails with the reason", (key, value, reason) => {
    const issues = parseIssues(dev({ database: { [key]: value } }));
    expect(issues).toEqual([{ path: `database.${key}`, message: expect.stringMatching(reason) }]);
    // The value once, at the start; the role it was refused for; the fix.
    const as = key === "username" ? "the master user" : "the database name";
    expect(issues[0]!.message.startsWith(`"${value}" is `)).toBe(true);
    expect(issues[0]!.message).toMatch(new RegExp(`; RDS refuses it as ${as}: pick another, e\\.g\\. "uaip"$`));
  });

  it("the prefixes reserved for roles (pg_, rds) do not apply to a database name", () => {
    for (const name of ["pg_data", "rdsdata"]) expect(parseIssues(dev({ database: { name } }))).toEqual([]);
    expect(parseIssues(dev({ database: { username: "pg_data" } })).map((i) => i.path)).toEqual(["database.username"]);
  });

  it.each([
    ["username", "_admin"],
    ["name", "1data"],
    ["name", "Data"],
  ])("database.%s %j (not a lowercase letter first) fails with the value and the fix", (key, value) => {
    expect(parseIssues(dev({ database: { [key]: value } }))).toEqual([
      {
        path: `database.${key}`,
        message: `expected a letter, then lowercase letters, digits or underscores (RDS for PostgreSQL), e.g. "uaip", got "${value}"`,
      },
    ]);
  });

  it("postgres stays a valid master user name (RDS's own default), and other names pass", () => {
    for (const username of ["postgres", "uaip", "app_user", "a1"])
      expect(parseIssues(dev({ database: { username } }))).toEqual([]);
  });
});

describe("instance and node types that exist (vendored EC2 and ElastiCache lists)", () => {
  it.each([
    [
      "cluster.instanceTypes",
      { cluster: { instanceTypes: ["t3.gigantic"] } },
      "cluster.instanceTypes[0]",
      /^"t3\.gigantic" is not an EC2 instance type AWS offers .*; the t3 family has t3\.2xlarge, .*t3\.nano/,
    ],
    [
      "redis.nodeType",
      { redis: { nodeType: "cache.t9.bogus" } },
      "redis.nodeType",
      /^"cache\.t9\.bogus" is not an ElastiCache node type AWS offers \(vendor\/aws\/elasticache-node-types\.json\)$/,
    ],
  ])("%s: a type AWS does not have fails with key, value and the family's real sizes", (_, raw, path, message) => {
    expect(parseIssues(dev(raw))).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it("property: a previous-generation ElastiCache node type is refused, naming current ones of its size", () => {
    fc.assert(
      fc.property(fc.constantFrom(...elasticache.previousGeneration), (node) => {
        const size = node.slice(node.lastIndexOf("."));
        const [issue, ...rest] = parseIssues(dev({ redis: { nodeType: node } }));
        expect(rest).toEqual([]);
        expect(issue?.path).toBe("redis.nodeType");
        expect(issue?.message).toMatch(
          new RegExp(
            `^"${node.replace(/\./g, "\\.")}" is a previous-generation ElastiCache node type: AWS runs existing clusters but creates no new ones`,
          ),
        );
        const suggested = /e\.g\. (.*)$/.exec(issue!.message)![1]!.split(", ");
        for (const t of suggested) {
          expect(elasticache.currentGeneration).toContain(t);
          expect(t.endsWith(size)).toBe(true);
        }
      }),
    );
  });

  it("property: every vendored type is accepted, and a type not in the list is refused, in either field", () => {
    const p = profile();
    fc.assert(
      fc.property(fc.constantFrom(...ec2.instanceTypes), fc.constantFrom(...elasticache.currentGeneration), (instance, node) => {
        const q = { ...p, cluster: { ...p.cluster, instanceTypes: [instance] }, redis: { ...p.redis, nodeType: node } };
        expect(awsProfileIssues(q).filter((i) => /instanceTypes|nodeType/.test(i.path))).toEqual([]);
      }),
    );
    fc.assert(
      fc.property(word(1, 6), word(1, 8), (family, size) => {
        const instance = `${family}.${size}`;
        const node = `cache.${instance}`;
        fc.pre(
          !ec2.instanceTypes.includes(instance) &&
            ![...elasticache.currentGeneration, ...elasticache.previousGeneration].includes(node),
        );
        const q = { ...p, cluster: { ...p.cluster, instanceTypes: [instance] }, redis: { ...p.redis, nodeType: node } };
        expect(awsProfileIssues(q).map((i) => i.path)).toEqual(["cluster.instanceTypes[0]", "redis.nodeType"]);
      }),
    );
  });
});

describe("VPC CIDRs AWS or IP reserve, and ranges outside the private ones", () => {
  const base = (cidr: string) => Number(cidr.split("/")[0]!.split(".")[0]);
  it.each([
    ["0.0.0.0/16", /overlaps 0\.0\.0\.0\/8, "this network"/],
    ["127.0.0.0/16", /overlaps 127\.0\.0\.0\/8, loopback/],
    ["169.254.0.0/16", /overlaps 169\.254\.0\.0\/16, link-local/],
    ["224.0.0.0/16", /overlaps 224\.0\.0\.0\/4, multicast/],
    ["239.255.0.0/16", /overlaps 224\.0\.0\.0\/4, multicast/],
    ["240.0.0.0/16", /overlaps 240\.0\.0\.0\/4, reserved/],
    ["172.17.0.0/16", /overlaps 172\.17\.0\.0\/16, used by some AWS services/],
    ["172.17.128.0/20", /overlaps 172\.17\.0\.0\/16/],
    ["8.8.0.0/16", /is publicly routable/],
    ["172.32.0.0/16", /is publicly routable/],
    ["192.169.0.0/16", /is publicly routable/],
  ])("network.cidr %s fails with its range", (cidr, reason) => {
    expect(base(cidr)).toBeGreaterThanOrEqual(0);
    expect(parseIssues(dev({ network: { cidr } }))).toEqual([
      { path: "network.cidr", message: expect.stringMatching(new RegExp(`^"${cidr.replace(/\./g, "\\.")}" ${reason.source}`)) },
    ]);
  });

  it.each([
    "10.0.0.0/16",
    "172.16.0.0/16",
    "172.18.0.0/16",
    "172.31.0.0/16",
    "192.168.0.0/16",
    "100.64.0.0/16",
    "10.255.255.0/24",
  ])("network.cidr %s (private, next to the boundaries) passes", (cidr) =>
    expect(parseIssues(dev({ network: { cidr } }))).toEqual([]),
  );

  it("property: a /16../24 is refused exactly when it leaves 10/8, 172.16/12, 192.168/16, 100.64/10 or touches 172.17/16", () => {
    const inRange = (ip: number, base: number, prefix: number) =>
      Math.floor(ip / 2 ** (32 - prefix)) === Math.floor(base / 2 ** (32 - prefix));
    const ipOf = (a: number, b: number, c: number, d: number) => ((a * 256 + b) * 256 + c) * 256 + d;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 16, max: 24 }), (ip, prefix) => {
        const net = ip - (ip % 2 ** (32 - prefix));
        const cidr = `${[24, 16, 8, 0].map((s) => Math.floor(net / 2 ** s) % 256).join(".")}/${prefix}`;
        const privateRange =
          inRange(net, ipOf(10, 0, 0, 0), 8) ||
          inRange(net, ipOf(172, 16, 0, 0), 12) ||
          inRange(net, ipOf(192, 168, 0, 0), 16) ||
          inRange(net, ipOf(100, 64, 0, 0), 10);
        const docker = prefix >= 16 && inRange(net, ipOf(172, 17, 0, 0), 16);
        expect(vpcCidrIssue(cidr) === undefined).toBe(privateRange && !docker);
      }),
    );
  });
});

describe("DNS names (loadBalancer.domainName: the certificate's name and CloudFront's origin)", () => {
  const label = (n: number) => "a".repeat(n);
  it("a label of 63 passes, 64 fails; a name of 253 passes, 254 fails", () => {
    expect(dnsNameIssue(`${label(63)}.example.org`)).toBeUndefined();
    expect(dnsNameIssue(`${label(64)}.example.org`)).toMatch(/a label of 64 characters/);
    // The message shows the label's first 20 characters, not all 64.
    const long = `${"b".repeat(20)}${"c".repeat(44)}`;
    expect(dnsNameIssue(`${long}.example.org`)).toContain(`("${"b".repeat(20)}...")`);
    const name = (total: number) => {
      const parts = [];
      let left = total;
      while (left > 0) {
        const n = Math.min(63, left === 64 ? 62 : left);
        parts.push(label(n));
        left -= n + 1;
      }
      return parts.join(".");
    };
    expect(name(253)).toHaveLength(253);
    expect(name(254)).toHaveLength(254);
    expect(dnsNameIssue(name(253))).toBeUndefined();
    expect(dnsNameIssue(name(254))).toMatch(/has 254 characters; DNS names have at most 253/);
  });

  it("property: any IPv4 address is refused as the origin name", () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => expect(dnsNameIssue(ip)).toMatch(/is an IP address/)));
  });

  it("property: names of valid labels pass; one label with a character outside [a-z0-9-], or an edge hyphen, fails", () => {
    const good = fc
      .tuple(fc.constantFrom(...lowerAlnum), word(0, 20), fc.constantFrom(..."abcxyz".split("")))
      .map(([a, mid, z]) => a + mid + z);
    fc.assert(
      fc.property(fc.array(good, { minLength: 1, maxLength: 4 }), fc.constantFrom("org", "com", "io"), (labels, tld) => {
        expect(dnsNameIssue([...labels, tld].join("."))).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(good, fc.constantFrom("_", "A", "!", " ", "é", "*"), fc.boolean(), (l, bad, hyphen) => {
        const broken = hyphen ? `-${l}` : `${l}${bad}x`;
        expect(dnsNameIssue(`${broken}.example.org`)).toBeDefined();
      }),
    );
  });

  it("through the profile: key, value as written and the reason", () => {
    expect(parseIssues(dev({ loadBalancer: { certificateArn: CERT, domainName: "10.0.0.1" } }))).toEqual([
      { path: "loadBalancer.domainName", message: expect.stringMatching(/^"10\.0\.0\.1" is an IP address; CloudFront origins/) },
    ]);
  });
});

describe("certificate ARNs", () => {
  it.each([
    [
      CERT.replace("0a1b2c3d-4e5f-4789-abcd-ef0123456789", "not-a-uuid"),
      /certificate id "not-a-uuid"; ACM ids are lowercase UUIDs/,
    ],
    [CERT.replace("0a1b2c3d-4e5f-4789-abcd-ef0123456789", "0a1b2c3d-4e5f-4789-abcd-ef012345678"), /ACM ids are lowercase UUIDs/],
    [CERT.replace("us-east-1", "mars-north-1"), /names region "mars-north-1", which is not an AWS region/],
    [CERT.replace("arn:aws:", "arn:aws-cn:"), /names region us-east-1 under partition "aws-cn", but us-east-1 is in "aws"/],
    [CERT.replace("arn:aws:", "arn:aws-mars:"), /has partition "aws-mars"/],
  ])("%s fails", (arn, reason) => {
    expect(parseCertificateArn(arn)).toMatch(reason);
    expect(
      parseIssues(dev({ loadBalancer: { certificateArn: arn, domainName: "origin.uaip.org" } })).map((i) => i.path),
    ).toContain("loadBalancer.certificateArn");
  });

  it("property: every region of every vendored partition, a 12-digit account and a UUID make a valid ARN", () => {
    const regionArb = fc.constantFrom(...regions.partitions.flatMap((p) => p.regions.map((r) => [p.id, r] as const)));
    fc.assert(
      fc.property(regionArb, fc.stringMatching(/^\d{12}$/), fc.uuid(), ([partition, region], account, id) => {
        expect(parseCertificateArn(`arn:${partition}:acm:${region}:${account}:certificate/${id}`)).toEqual({
          partition,
          region,
          account,
          id,
        });
      }),
    );
  });

  it("through the profile, a bad certificate ARN is named with its value and the reason", () => {
    const arn = CERT.replace("us-east-1", "mars-north-1");
    expect(parseIssues(dev({ loadBalancer: { certificateArn: arn, domainName: "origin.uaip.org" } }))).toEqual([
      { path: "loadBalancer.certificateArn", message: `"${arn}" names region "mars-north-1", which is not an AWS region` },
    ]);
  });

  it("the stack's region is checked against a certificate that parses only: a malformed one is the profile's issue", () => {
    const p = profile();
    const malformed = { ...p, loadBalancer: { ...p.loadBalancer, certificateArn: CERT.replace("us-east-1", "mars-north-1") } };
    expect(awsRegionIssues(malformed, "eu-west-1")).toEqual([]);
  });

  it("the stack's region: the ALB takes only a certificate of its own region", () => {
    const p = profile({ loadBalancer: { certificateArn: CERT, domainName: "origin.uaip.org" } });
    expect(awsRegionIssues(p, "us-east-1")).toEqual([]);
    expect(awsRegionIssues(p, "eu-west-1")).toEqual([
      {
        path: "loadBalancer.certificateArn",
        message: expect.stringMatching(
          /is in us-east-1, but the ALB is in the stack's region eu-west-1 .*request \(or import\) the certificate in ACM in eu-west-1/,
        ),
      },
    ]);
  });
});

describe("aws:region", () => {
  it("mars-north-1 fails with the key and a fix", () => {
    expect(awsRegionIssues(profile(), "mars-north-1")).toEqual([
      {
        path: "aws:region",
        message: expect.stringMatching(/^"mars-north-1" is not an AWS region .*pulumi config set aws:region/),
      },
    ]);
    expect(awsRegionIssues(profile(), "us-east-7")[0]!.message).toMatch(/regions with that prefix: .*us-east-1, us-east-2/);
  });

  it("property: every vendored region passes; any other string fails", () => {
    const all = regions.partitions.flatMap((p) => p.regions);
    const p = profile();
    fc.assert(fc.property(fc.constantFrom(...all), (r) => expect(awsRegionIssues(p, r)).toEqual([])));
    fc.assert(
      fc.property(fc.string(), (r) => {
        fc.pre(!all.includes(r));
        expect(awsRegionIssues(p, r).map((i) => i.path)).toEqual(["aws:region"]);
      }),
    );
  });
});

describe("cluster.adminRoleArns", () => {
  const role = (n: number) => `arn:aws:iam::123456789012:role/admin-${n}`;
  it("property: a role listed twice is refused at its second index, naming the first", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(50), { minLength: 1, maxLength: 6 }), fc.nat(), fc.nat(), (ids, from, at) => {
        const roles = ids.map(role);
        const dup = roles[from % roles.length]!;
        roles.splice(at % (roles.length + 1), 0, dup);
        const first = roles.indexOf(dup);
        const second = roles.indexOf(dup, first + 1);
        const issues = parseIssues(dev({ cluster: { adminRoleArns: roles } }));
        expect(issues).toEqual([
          {
            path: `cluster.adminRoleArns[${second}]`,
            message: expect.stringContaining(`"${dup}" is listed twice (also cluster.adminRoleArns[${first}])`),
          },
        ]);
      }),
    );
  });

  it("role names of 64 characters pass, 65 fail; paths are allowed", () => {
    expect(iamRoleArnIssue(`arn:aws:iam::123456789012:role/${"r".repeat(64)}`)).toBeUndefined();
    expect(iamRoleArnIssue(`arn:aws:iam::123456789012:role/team/ci/${"r".repeat(64)}`)).toBeUndefined();
    expect(iamRoleArnIssue(`arn:aws:iam::123456789012:role/${"r".repeat(65)}`)).toMatch(/IAM role names are 1 to 64/);
    expect(iamRoleArnIssue(`arn:aws-mars:iam::123456789012:role/admin`)).toMatch(/partition "aws-mars"/);
    expect(iamRoleArnIssue(`arn:aws:iam::123456789012:role//admin`)).toMatch(/has path "\/\/"/);
  });

  it("a role ARN with a path is taken as IAM and EKS take it: a 64-character name under a path, a path of printable ASCII", () => {
    // EKS access entries take role ARNs with their path (Amazon EKS User Guide, "Create access entries"); CreateRole
    // allows names of 64 and paths of 512 printable ASCII characters. The profile's pattern once capped path + name at 64.
    for (const arn of [
      `arn:aws:iam::123456789012:role/development/apps/${"r".repeat(64)}`,
      "arn:aws:iam::123456789012:role/ops:team!/admin",
      `arn:aws:iam::123456789012:role/${"p".repeat(510)}/admin`,
    ])
      expect(parseIssues(dev({ cluster: { adminRoleArns: [arn] } }))).toEqual([]);
    // The CI role (ci.deploys.roleArn, which must be among the admins) has the same shape rule.
    const ci = `arn:aws:iam::123456789012:role/ci/github/${"c".repeat(60)}`;
    const connectionArn = "arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-0000-4000-8000-000000000000";
    expect(
      parseIssues(
        dev({
          cluster: { adminRoleArns: [ci] },
          ci: { deploys: { enabled: true, githubRepo: "my-org/uaip", roleArn: ci, connectionArn } },
        }),
      ),
    ).toEqual([]);
    const longName = `arn:aws:iam::123456789012:role/development/${"r".repeat(65)}`;
    expect(parseIssues(dev({ cluster: { adminRoleArns: [longName] } }))).toEqual([
      {
        path: "cluster.adminRoleArns[0]",
        message: expect.stringMatching(/^".*" has role name "r{65}"; IAM role names are 1 to 64/),
      },
    ]);
  });

  it("a role in another partition than the stack's region fails", () => {
    const p = profile({ cluster: { adminRoleArns: ["arn:aws-cn:iam::123456789012:role/admin"] } });
    expect(awsRegionIssues(p, "cn-north-1")).toEqual([]);
    expect(awsRegionIssues(p, "us-east-1")).toEqual([
      {
        path: "cluster.adminRoleArns[0]",
        message: expect.stringContaining('is in partition "aws-cn", but us-east-1 is in "aws"'),
      },
    ]);
  });
});

describe("a platform that contradicts the environment's preset", () => {
  it.each(
    ENVIRONMENTS.flatMap((environment) => (["aws", "docker"] as const).map((platform) => [environment, platform] as const)),
  )("environment %s with platform %s", (environment, platform) => {
    const own = environment === "local" ? "docker" : "aws";
    const issues = parseIssues({ environment, platform });
    const issue = issues.find((i) => i.path === "platform");
    if (platform === own) expect(issues).toEqual([]);
    else
      expect(issue?.message).toMatch(
        new RegExp(`^"${platform}" contradicts environment "${environment}", whose preset is built for "${own}"`),
      );
  });

  it("platformIssue is the one rule: it reads the preset, so local+aws is refused before any AWS check runs", () => {
    const p = { ...profile(), environment: "local" as const };
    expect(platformIssue(p)?.message).toMatch(/remove uaip:platform, or use an environment built for aws: dev, staging, prod/);
  });
});

describe("any input: each rule answers, never throws", () => {
  it("property: arbitrary strings get a reason or nothing from every identifier rule", () => {
    const p = profile();
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        for (const answer of [
          dnsNameIssue(text),
          iamRoleArnIssue(text),
          rdsNameIssue("masterUsername", text),
          rdsNameIssue("dbName", text),
          vpcCidrIssue(text),
        ])
          expect(answer === undefined || typeof answer === "string").toBe(true);
        const arn = parseCertificateArn(text);
        expect(typeof arn === "string" || typeof arn === "object").toBe(true);
        expect(Array.isArray(awsRegionIssues(p, text))).toBe(true);
      }),
    );
  });
});

describe("AWS rules at their edges (issue #22: Stryker's survivors in profile/aws-rules.ts)", () => {
  const p = profile();
  const withTypes = (instance: string, node = p.redis.nodeType): Profile => ({
    ...p,
    cluster: { ...p.cluster, instanceTypes: [instance] },
    redis: { ...p.redis, nodeType: node },
  });

  it("an unknown type's hint lists exactly the vendored types of its family, and nothing when there is no family or no such family", () => {
    const [t3] = awsProfileIssues(withTypes("t3.gigantic"));
    const family = ec2.instanceTypes.filter((t) => t.startsWith("t3."));
    expect(t3!.message.endsWith(`; the t3 family has ${family.join(", ")}`)).toBe(true);
    for (const type of ["gigantic", "zz9.large"])
      expect(awsProfileIssues(withTypes(type))).toEqual([
        {
          path: "cluster.instanceTypes[0]",
          message: `"${type}" is not an EC2 instance type AWS offers (vendor/aws/ec2-instance-types.json)`,
        },
      ]);
  });

  it("a previous-generation node type suggests at most four current ones of its size", () => {
    for (const node of elasticache.previousGeneration) {
      const size = node.slice(node.lastIndexOf("."));
      const current = elasticache.currentGeneration.filter((t) => t.endsWith(size));
      const [issue] = awsProfileIssues(withTypes(p.cluster.instanceTypes[0]!, node));
      const suggested = /e\.g\. (.*)$/.exec(issue!.message)?.[1]?.split(", ").filter(Boolean) ?? [];
      expect(suggested).toEqual(current.slice(0, 4));
    }
  });

  it("a Docker profile gets no AWS check: unknown types and versions pass", () => {
    const local = parseConfig({ environment: "local" });
    const odd = {
      ...local,
      cluster: { ...local.cluster, instanceTypes: ["t3.gigantic"] },
      network: { ...local.network, cidr: "8.8.0.0/16" },
    };
    expect(awsProfileIssues(odd)).toEqual([]);
  });

  it("vpcCidrIssue leaves what does not parse to the profile's own CIDR check; a whole private range passes, one bit wider does not", () => {
    for (const text of ["10.0.0.1/16", "garbage", "10.0.0.0/33"]) expect(vpcCidrIssue(text)).toBeUndefined();
    // (172.16.0.0/12 as a whole holds 172.17.0.0/16, refused on its own.)
    for (const cidr of ["10.0.0.0/8", "192.168.0.0/16", "100.64.0.0/10"]) expect(vpcCidrIssue(cidr)).toBeUndefined();
    for (const cidr of ["10.0.0.0/7", "192.168.0.0/15", "100.0.0.0/9"])
      expect(vpcCidrIssue(cidr)).toMatch(
        /^is publicly routable: .*use a range inside 10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16, 100\.64\.0\.0\/10$/,
      );
  });

  it("property: a CIDR of any prefix is accepted exactly when it lies inside a recommended range and shares no address with a forbidden one", () => {
    const ipOf = (a: number, b: number, c: number, d: number) => ((a * 256 + b) * 256 + c) * 256 + d;
    const range = (base: number, prefix: number) => ({ base, prefix });
    const recommended = [
      range(ipOf(10, 0, 0, 0), 8),
      range(ipOf(172, 16, 0, 0), 12),
      range(ipOf(192, 168, 0, 0), 16),
      range(ipOf(100, 64, 0, 0), 10),
    ];
    const forbidden = [
      range(0, 8),
      range(ipOf(127, 0, 0, 0), 8),
      range(ipOf(169, 254, 0, 0), 16),
      range(ipOf(224, 0, 0, 0), 4),
      range(ipOf(240, 0, 0, 0), 4),
      range(ipOf(172, 17, 0, 0), 16),
    ];
    const first = (r: { base: number }) => r.base;
    const last = (r: { base: number; prefix: number }) => r.base + 2 ** (32 - r.prefix) - 1;
    const ips = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.constantFrom(...recommended, ...forbidden).chain((r) => fc.integer({ min: first(r), max: last(r) })),
    );
    fc.assert(
      fc.property(ips, fc.integer({ min: 0, max: 32 }), (ip, prefix) => {
        const net = range(ip - (ip % 2 ** (32 - prefix)), prefix);
        const cidr = `${[24, 16, 8, 0].map((s) => Math.floor(net.base / 2 ** s) % 256).join(".")}/${prefix}`;
        const inside = recommended.some((r) => first(net) >= first(r) && last(net) <= last(r));
        const touches = forbidden.some((f) => first(net) <= last(f) && first(f) <= last(net));
        expect(vpcCidrIssue(cidr) === undefined).toBe(inside && !touches);
      }),
    );
  });

  it("an unknown region names the regions with its prefix, or none when no region has it", () => {
    const us = regions.partitions.flatMap((x) => x.regions).filter((r) => r.split("-")[0] === "us");
    expect(awsRegionIssues(p, "us-middle-9")[0]!.message).toContain(`; regions with that prefix: ${us.join(", ")};`);
    expect(awsRegionIssues(p, "mars-north-1")).toEqual([
      {
        path: "aws:region",
        message:
          '"mars-north-1" is not an AWS region (vendor/aws/regions.json); run: pulumi config set aws:region <region>, e.g. us-east-1',
      },
    ]);
  });

  it("a role in another partition is named once: its partition if its shape is right, else only its shape (awsProfileIssues' issue)", () => {
    const withRoles = (adminRoleArns: string[]): Profile => ({ ...p, cluster: { ...p.cluster, adminRoleArns } });
    const badShape = `arn:aws-cn:iam::123456789012:role/${"r".repeat(65)}`;
    expect(awsRegionIssues(withRoles([badShape]), "us-east-1")).toEqual([]);
    expect(
      awsRegionIssues(withRoles(["arn:aws:iam::123456789012:role/a", "arn:aws-cn:iam::123456789012:role/b"]), "us-east-1"),
    ).toEqual([
      {
        path: "cluster.adminRoleArns[1]",
        message: expect.stringContaining("use the role's ARN in aws (arn:aws:iam::...)"),
      },
    ]);
  });

  it("a Docker platform on an AWS environment names the environments built for Docker", () => {
    const docker = { ...p, platform: "docker" as const };
    expect(platformIssue(docker)?.message).toMatch(
      /^"docker" contradicts environment "dev", whose preset is built for "aws" .*use an environment built for docker: local$/,
    );
    expect(platformIssue(p)).toBeUndefined();
  });
});
