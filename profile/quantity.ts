/**
 * Kubernetes quantities the profile uses, as numbers. Pure, so the cross-layer checks
 * (heap vs memory limit) and the tests can use them without Pulumi.
 */
const MEMORY_UNITS: Record<string, number> = {
  "": 1 / (1024 * 1024),
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  Ti: 1024 * 1024,
  k: 1000 / (1024 * 1024),
  M: 1e6 / (1024 * 1024),
  G: 1e9 / (1024 * 1024),
};

/** "512Mi" -> 512, "1Gi" -> 1024, "1G" -> 953.67 (MiB). Returns undefined when malformed. */
export function memoryToMiB(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G)?$/.exec(quantity);
  if (!match) return undefined;
  return Number(match[1]) * MEMORY_UNITS[match[2] ?? ""];
}

/** A CPU quantity as the profile writes one: whole digits, an optional fraction, an optional "m" (millicores). */
const CPU_QUANTITY = /^(\d+)(?:\.(\d+))?(m)?$/;

/** "250m" -> 0.25, "2" -> 2 (cores). Returns undefined when malformed. */
export function cpuToCores(quantity: string): number | undefined {
  const match = CPU_QUANTITY.exec(quantity);
  if (!match) return undefined;
  const value = Number(match[2] === undefined ? match[1] : `${match[1]}.${match[2]}`);
  return match[3] ? value / 1000 : value;
}

/**
 * Whole millicores as the scheduler counts a CPU request: rounded UP (Kubernetes's Quantity.MilliValue is
 * ceil(q × 1000)), so "0.0004" and "1.5m" take 1 m and 2 m of a node. Computed from the digits, not as
 * cores × 1000, which is off in floating point ("2.007" would come to 2007.0000000000002, ceiling 2008).
 * Returns undefined when malformed.
 */
export function cpuToMillicores(quantity: string): number | undefined {
  const match = CPU_QUANTITY.exec(quantity);
  if (!match) return undefined;
  const [, whole, fraction = "", milli] = match;
  // Digits of a millicore: all of the fraction for "…m", past the third for cores.
  const milliDigits = milli ? 0 : 3;
  const exact = Number(whole) * (milli ? 1 : 1000) + Number(fraction.slice(0, milliDigits).padEnd(milliDigits, "0") || 0);
  return /[1-9]/.test(fraction.slice(milliDigits)) ? exact + 1 : exact;
}
