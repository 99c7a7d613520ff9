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

/** An EC2 instance type's vCPUs (a node's share of CPU, for the dollars-per-request report), with its source. */
export interface InstanceVcpus {
  instanceType: string;
  vcpus: number;
  asOf: string;
  source: PriceSource;
}

export interface PriceSnapshot {
  currency: "USD";
  /** Hours a month is billed for (AWS's own convention: 730). */
  hoursPerMonth: number;
  prices: Price[];
  /** vCPUs of the node types that have a cited source; a type not listed has no per-request figure. */
  instanceVcpus?: InstanceVcpus[];
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

/** vCPUs of an EC2 instance type, or undefined when the snapshot cites none. */
export function vcpusOf(snapshot: PriceSnapshot, instanceType: string): number | undefined {
  return snapshot.instanceVcpus?.find((v) => v.instanceType === instanceType)?.vcpus;
}

/** Whole days from `asOf` to `today` (both `YYYY-MM-DD`). */
export function ageInDays(asOf: string, today: string): number {
  return Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${asOf}T00:00:00Z`)) / 86_400_000);
}

/** Prices older than this many days make the estimate warn. */
export const STALE_AFTER_DAYS = 90;
