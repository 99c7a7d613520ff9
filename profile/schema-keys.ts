import type { z } from "zod";

/** zod's internal definition, as far as walking a schema needs it. */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at `path` may be checked by (several under a union). */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[]): Def[] {
  const def = defOf(schema);
  switch (def.type) {
    case "optional":
    case "default":
    case "prefault":
    case "nullable":
    case "readonly":
    case "catch":
      return objectsAt(def.innerType!, path);
    case "pipe":
      return objectsAt(def.in!, path);
    case "union":
      return def.options!.flatMap((o) => objectsAt(o, path));
  }
  if (path.length === 0) return def.type === "object" ? [def] : [];
  const [head, ...rest] = path;
  if (def.type === "object") {
    const next = def.shape![String(head)];
    return next ? objectsAt(next, rest) : [];
  }
  if (def.type === "array") return objectsAt(def.element!, rest);
  if (def.type === "record") return objectsAt(def.valueType!, rest);
  return [];
}

/** The keys a schema allows for the object at `path` (e.g. ["cdn"] -> enabled, provider, ...); [] when none is known. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((d) => Object.keys(d.shape ?? {})))];
}
