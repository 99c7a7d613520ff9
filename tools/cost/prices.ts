/**
 * The vendored price snapshot (vendor/aws/prices/snapshot.json): list prices with their source,
 * region, unit and the day they were read. A SKU it does not list has no price; callers report
 * it as unpriced, by name, rather than guess one.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface PriceSource {
  document: string;
  url: string;
}

export interface Price {
  sku: string;
  region: string;
  unit: string;
  usd: number;
  /** `YYYY-MM-DD`: the day the price was read (or its source generated). */
  asOf: string;
  source: PriceSource;
}

/** A SKU the stacks can bill that is left unpriced on purpose, and why (no source could be trusted). */
export interface DeclaredUnpriced {
  sku: string;
  reason: string;
}

export interface PriceSnapshot {
  currency: "USD";
  /** Hours a month is billed for (AWS's own convention: 730). */
  hoursPerMonth: number;
  prices: Price[];
  /** SKUs without a price, each with the reason: the plan prints it next to the unpriced item. */
  unpriced?: DeclaredUnpriced[];
}

export const SNAPSHOT_FILE = join(__dirname, "..", "..", "vendor", "aws", "prices", "snapshot.json");

let cached: PriceSnapshot | undefined;

export function loadSnapshot(file = SNAPSHOT_FILE): PriceSnapshot {
  if (file !== SNAPSHOT_FILE) return JSON.parse(readFileSync(file, "utf8")) as PriceSnapshot;
  cached ??= JSON.parse(readFileSync(file, "utf8")) as PriceSnapshot;
  return cached;
}

/** The price of `sku` in `region`, or undefined when the snapshot has none (never a neighbour's). */
export function priceOf(snapshot: PriceSnapshot, sku: string, region: string): Price | undefined {
  return snapshot.prices.find((p) => p.sku === sku && p.region === region);
}

/** Why the snapshot leaves `sku` unpriced, when it says. */
export function unpricedReason(snapshot: PriceSnapshot, sku: string): string | undefined {
  return snapshot.unpriced?.find((u) => u.sku === sku)?.reason;
}

/** Whole days from `asOf` to `today` (both `YYYY-MM-DD`). */
export function ageInDays(asOf: string, today: string): number {
  return Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${asOf}T00:00:00Z`)) / 86_400_000);
}

/** Prices older than this many days make the estimate warn. */
export const STALE_AFTER_DAYS = 90;
