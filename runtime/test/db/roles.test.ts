import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { APP_GROUP_ROLE, scramSha256Verifier, validateServiceRole, type ServiceRole } from "../../src/db/roles";
import { DbMigrationError } from "../../src/db/errors";

/**
 * The service roles without a server (issue #22's mutation run on runtime/src/db): the verifier must let the
 * client the services use (node-postgres) log in with the password, whatever the password holds, and a role is
 * checked on both sides of every bound before any SQL is built. migrate.test.ts logs in for real with ASCII
 * passwords; here node-postgres's own SCRAM client is the oracle, and the server's side of RFC 5802 §3 is
 * written out below, so no expectation comes from roles.ts.
 */

// node-postgres's SCRAM client (the one the pool logs in with); not a public entry point, so required by path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sasl = require("pg/lib/crypto/sasl") as {
  startSession(mechanisms: string[]): { clientNonce: string; response: string; serverSignature?: string };
  continueSession(session: object, password: string, serverData: string): Promise<void>;
};

/** What PostgreSQL does at login with a stored verifier: checks the client's proof, answers its own signature. */
async function logsIn(verifier: string, password: string): Promise<boolean> {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) throw new Error(`not a SCRAM-SHA-256 verifier: ${verifier}`);
  const [, iterations, salt, storedB64, serverB64] = m;
  const session = sasl.startSession(["SCRAM-SHA-256"]);
  const nonce = `${session.clientNonce}server`;
  const serverFirst = `r=${nonce},s=${salt},i=${iterations}`;
  await sasl.continueSession(session, password, serverFirst);
  const proof = Buffer.from(/,p=(.+)$/.exec(session.response)![1], "base64");
  const authMessage = `n=*,r=${session.clientNonce},${serverFirst},c=biws,r=${nonce}`;
  const storedKey = Buffer.from(storedB64, "base64");
  const clientSignature = createHmac("sha256", storedKey).update(authMessage).digest();
  const clientKey = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]));
  const proofOk = createHash("sha256").update(clientKey).digest().equals(storedKey);
  const serverSignature = createHmac("sha256", Buffer.from(serverB64, "base64")).update(authMessage).digest("base64");
  return proofOk && serverSignature === session.serverSignature;
}

/** Characters SASLprep (RFC 4013) maps: non-ASCII spaces to " ", "commonly mapped to nothing" removed, NFKC. */
const MAPPED = ["\u00a0", "\u2000", "\u200b", "\u3000", "\u00ad", "\u200d", "\u2060", "\ufe0f", "\ufeff", "\ufb01", "\u2168"];

describe("scramSha256Verifier", () => {
  it("lets node-postgres log in with the password it was made from, and with no other", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom(...MAPPED), fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        async (parts, salt) => {
          const password = `pw-${parts.join("")}`;
          const verifier = scramSha256Verifier(password, Buffer.from(salt), 64);
          expect(await logsIn(verifier, password)).toBe(true);
          expect(await logsIn(verifier, `${password}x`)).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each(MAPPED.map((c) => [c.codePointAt(0)!.toString(16)]))(
    "a password holding U+%s logs in (SASLprep, as the client applies it)",
    async (hex) => {
      const password = `pass${String.fromCodePoint(parseInt(hex, 16))}word-long-enough`;
      expect(await logsIn(scramSha256Verifier(password, Buffer.alloc(16, 7), 64), password)).toBe(true);
    },
  );

  it("is salted and iterated as given: PostgreSQL's default 4096 rounds and a fresh 16-byte salt when none is", async () => {
    const given = scramSha256Verifier("a-password-of-16+", Buffer.alloc(16, 1), 10);
    expect(given.startsWith(`SCRAM-SHA-256$10:${Buffer.alloc(16, 1).toString("base64")}$`)).toBe(true);
    const a = scramSha256Verifier("a-password-of-16+");
    const b = scramSha256Verifier("a-password-of-16+");
    expect(a).not.toBe(b);
    for (const v of [a, b]) {
      const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(v)!;
      expect(Number(iterations)).toBe(4096);
      expect(Buffer.from(salt, "base64")).toHaveLength(16);
      expect(await logsIn(v, "a-password-of-16+")).toBe(true);
    }
  });
});

describe("validateServiceRole: every bound, both sides", () => {
  const role = (over: Partial<ServiceRole>): ServiceRole => ({
    name: "svc",
    password: "p".repeat(16),
    connectionLimit: 1,
    ...over,
  });
  const refusal = (r: ServiceRole, index?: number): string | undefined => {
    try {
      validateServiceRole(r, index);
      return undefined;
    } catch (err) {
      expect(err).toBeInstanceOf(DbMigrationError);
      expect((err as DbMigrationError).migration).toBe("(roles)");
      expect((err as DbMigrationError).code).toBe("UAIP_DB_MIGRATION_FAILED");
      return (err as Error).message;
    }
  };

  it("names: lower-case letter or _ first, then letters, digits, _; 1 to 63 characters (PostgreSQL's NAMEDATALEN - 1)", () => {
    const first = fc.constantFrom(..."abcxyz_");
    const rest = fc.string({ unit: fc.constantFrom(..."az09_"), maxLength: 62 });
    fc.assert(
      fc.property(first, rest, (f, r) => {
        const name = f + r;
        fc.pre(name !== APP_GROUP_ROLE && !name.startsWith("pg_"));
        expect(refusal(role({ name }))).toBeUndefined();
      }),
      { numRuns: 60 },
    );
    for (const name of ["a".repeat(64), "", "9svc", "Svc", "svc-x", "svc x", "svc;drop", " svc", "svc\n"]) {
      expect(refusal(role({ name }), 3)).toBe(
        `(roles): roles[3].name="${name}" is not a PostgreSQL role name; use lower-case letters, digits and _`,
      );
    }
    expect(refusal(role({ name: "a".repeat(63) }))).toBeUndefined();
  });

  it("refuses the group role and pg_ names as reserved, but not names that only contain them", () => {
    for (const name of [APP_GROUP_ROLE, "pg_", "pg_monitor"])
      expect(refusal(role({ name }))).toBe(`(roles): roles[0].name="${name}" is reserved; pick the service's own name`);
    for (const name of ["uaip_app2", "my_pg_svc", "pgx", "xuaip_app"]) expect(refusal(role({ name }))).toBeUndefined();
  });

  it("a connection limit is a positive integer: 1 and up pass, 0, negatives, fractions and NaN do not", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), (n) => refusal(role({ connectionLimit: n })) === undefined));
    for (const n of [0, -1, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(refusal(role({ connectionLimit: n }), 2)).toBe(
        `(roles): roles[2].connectionLimit=${n} must be a positive integer (pool.max × pods during a rollout at hpa.max)`,
      );
  });

  it("a password has at least 16 characters: 16 passes, 15 and none do not, and the message never holds it", () => {
    expect(refusal(role({ password: "x".repeat(16) }))).toBeUndefined();
    for (const password of ["x".repeat(15), "", undefined as unknown as string]) {
      const message = refusal(role({ password }), 1);
      expect(message).toBe(`(roles): roles[1] "svc": password missing or shorter than 16 characters`);
    }
  });

  it("the index defaults to 0", () => {
    expect(refusal(role({ name: "Bad" }))).toContain("roles[0].name");
  });
});
