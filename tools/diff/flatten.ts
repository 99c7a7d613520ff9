/**
 * Flattens resource inputs into `path -> leaf value` so two plans compare key by key. Arrays of
 * named objects (RDS parameters, container env) are keyed by name, so a new parameter shows as
 * one added key rather than every later index shifting: `parameters[max_connections].value`.
 * Strings holding a JSON object or array (IAM policies, dashboards) are flattened too, under
 * `<key>(json)`, so one changed statement shows as one row instead of two 800-character blobs.
 */

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

function keyPath(prefix: string, key: string): string {
  if (PLAIN_KEY.test(key)) return prefix ? `${prefix}.${key}` : key;
  return `${prefix}[${JSON.stringify(key)}]`;
}

function namedElements(items: unknown[]): string[] | undefined {
  if (items.length === 0) return undefined;
  const names = items.map((i) =>
    typeof i === "object" && i !== null && typeof (i as { name?: unknown }).name === "string"
      ? (i as { name: string }).name
      : undefined,
  );
  if (names.some((n) => n === undefined) || new Set(names).size !== names.length) return undefined;
  return names as string[];
}

function parseJson(text: string): object | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function flatten(value: unknown, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, []);
    const names = namedElements(value);
    value.forEach((item, i) => flatten(item, `${prefix}[${names ? names[i] : i}]`, out));
  } else if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) out.set(prefix, {});
    for (const [k, v] of entries) flatten(v, keyPath(prefix, k), out);
  } else if (typeof value === "string" && /^\s*[[{]/.test(value)) {
    const parsed = parseJson(value);
    if (parsed === undefined) out.set(prefix, value);
    else flatten(parsed, `${prefix}(json)`, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}
