import type { IncomingMessage } from "node:http";
import { showValue } from "../options";
import { LABEL } from "./names";
import { OTHER_ROUTE } from "./route";

/** Prometheus' label-name rule (data model): `[a-zA-Z_][a-zA-Z0-9_]*`; names starting `__` are reserved. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Labels the HTTP metrics already carry (`le` is the histogram's bucket label). */
export const BUILT_IN_HTTP_LABELS: readonly string[] = [LABEL.service, LABEL.method, LABEL.route, LABEL.statusCode, "le"];

/** Distinct values kept per extra label; later ones are reported as "__other__" (as routes are). */
export const MAX_EXTRA_LABEL_VALUES = 100;

/** What is wrong with an extra label name, or undefined when it is usable. */
export function labelNameProblem(name: string): string | undefined {
  if (!LABEL_NAME.test(name)) return `"${name}" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)`;
  if (name.startsWith("__")) return `"${name}" starts with "__", which Prometheus reserves`;
  if (BUILT_IN_HTTP_LABELS.includes(name)) return `"${name}" is a built-in label of the HTTP metrics`;
  return undefined;
}

/** What is wrong with histogram bucket bounds (seconds), or undefined when they are usable. */
export function bucketsProblem(buckets: unknown): string | undefined {
  if (!Array.isArray(buckets) || buckets.length === 0) return "expected a non-empty array of upper bounds in seconds";
  const bad: string[] = [];
  for (let i = 0; i < buckets.length; i++) {
    const b: unknown = buckets[i];
    if (typeof b !== "number" || !Number.isFinite(b) || b <= 0)
      bad.push(`[${i}] = ${showValue(b)} is not a positive finite number (+Inf is implicit)`);
    else if (i > 0 && typeof buckets[i - 1] === "number" && b <= (buckets[i - 1] as number))
      bad.push(`[${i}] = ${b} is not greater than [${i - 1}] = ${showValue(buckets[i - 1])} (bounds must increase)`);
  }
  return bad.length === 0 ? undefined : bad.join("; ");
}

/** Gives an extra label's value for one request (the `labels` option of createMetrics). */
export type LabelExtractor = (req: IncomingMessage) => string | undefined;

/**
 * The extra labels' values for one request, each label capped at MAX_EXTRA_LABEL_VALUES distinct values.
 * A throwing extractor or a non-string answer gives "" (Prometheus reads an empty label as absent).
 */
export class ExtraLabels {
  readonly names: readonly string[];
  readonly #extractors: readonly LabelExtractor[];
  readonly #seen: Set<string>[];

  constructor(extractors: Readonly<Record<string, LabelExtractor>>) {
    this.names = Object.keys(extractors);
    this.#extractors = this.names.map((n) => extractors[n]);
    this.#seen = this.names.map(() => new Set<string>());
  }

  /** Values from the request, by the extractors. */
  fromRequest(req: IncomingMessage): string[] {
    return this.#extractors.map((extract, i) => {
      let value: unknown;
      try {
        value = extract(req);
      } catch {
        value = "";
      }
      return this.#capped(i, typeof value === "string" ? value : "");
    });
  }

  /** Values given by hand (observe()); a label not given is "". */
  fromRecord(values: Readonly<Record<string, string>> | undefined): string[] {
    return this.names.map((name, i) => this.#capped(i, typeof values?.[name] === "string" ? values[name] : ""));
  }

  #capped(i: number, value: string): string {
    const seen = this.#seen[i];
    if (seen.has(value)) return value;
    if (seen.size >= MAX_EXTRA_LABEL_VALUES) return OTHER_ROUTE;
    seen.add(value);
    return value;
  }
}
