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

/** "250m" -> 0.25, "2" -> 2 (cores). Returns undefined when malformed. */
export function cpuToCores(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity);
  if (!match) return undefined;
  return match[2] ? Number(match[1]) / 1000 : Number(match[1]);
}
