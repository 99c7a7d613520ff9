/**
 * The sample lines of Prometheus' text exposition format, read one way by every reader in the load runner (the
 * request histogram, the heap gauge): a name, optional {labels}, the value, then an optional timestamp. The value
 * is the token right after the name and labels, never the line's last one (that is the timestamp when there is one).
 */
const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?[ \t]+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

export interface Sample {
  name: string;
  labels: Record<string, string>;
  /** As written: NaN for a value that is not a number. */
  value: number;
}

/** The sample a line holds, or undefined for a comment, a blank or a malformed line. */
export function sampleOf(line: string): Sample | undefined {
  const m = SAMPLE.exec(line);
  if (!m) return undefined;
  const labels: Record<string, string> = {};
  for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]] = l[2];
  return { name: m[1], labels, value: Number(m[3]) };
}
