/** The cost estimate as text (the plan's --cost output) and as the README's markdown table. */
import { usd } from "./budget";
import type { CostReport } from "./estimate";

export function renderCost(report: CostReport): string {
  const out: string[] = [];
  out.push(
    `Monthly cost estimate (${report.stack}, ${report.region}, ${report.currency}, ${report.hoursPerMonth} h/month; list prices, vendor/aws/prices/snapshot.json)`,
  );
  const a = report.assumptions;
  out.push(
    `  assumptions (profile cost.assumptions): ${a.requestsPerMonth} requests, ${a.gbOutPerMonth} GB out, ${a.logGbPerMonth} GB logs, ${a.natGbPerMonth} GB through NAT per month; ` +
      `${a.s3GbStored} GB in S3 with ${a.s3PutRequestsPerMonth} PUTs/month, ${a.ecrGbStored} GB in ECR, ${a.ciBuildMinutesPerMonth} CI build minutes/month; ` +
      `serverless cache: ${a.cacheGbStored} GB, ${a.cacheEcpuPerRequest} ECPU per request`,
  );
  const byComponent = new Map<string, typeof report.lines>();
  for (const l of report.lines) byComponent.set(l.component, [...(byComponent.get(l.component) ?? []), l]);
  for (const [component, lines] of byComponent) {
    const fixed = lines.reduce((s, l) => s + l.fixedMonthly, 0);
    const usage = lines.reduce((s, l) => s + l.usageMonthly, 0);
    out.push(`  ${component || "(stack)"}: fixed $${usd(fixed)}, usage $${usd(usage)}`);
    for (const l of lines)
      out.push(
        `      ${l.resource.padEnd(32)} ${l.sku.padEnd(34)} ${String(round(l.quantity)).padStart(9)} × $${l.usdPerUnit}/${l.unit}${l.basis === "hourly" ? " × 730 h" : ""}  fixed $${usd(l.fixedMonthly)}  usage $${usd(l.usageMonthly)}  (${l.what})`,
      );
  }
  for (const n of report.nodeRanges)
    out.push(
      `  nodes ${n.resource}: ${n.minNodes}..${n.maxNodes} nodes (cluster autoscaler) = $${usd(n.minMonthly)}..$${usd(n.maxMonthly)}/month`,
    );
  if (report.unpriced.length) {
    out.push(`  unpriced (no price in the snapshot; counted as $0):`);
    for (const u of report.unpriced)
      out.push(
        `      ${u.resource} (${u.type}): ${u.sku}${u.what ? ` — ${u.what}` : ""}${u.reason ? ` (no price: ${u.reason})` : ""}`,
      );
  }
  const t = report.totals;
  out.push(
    `  total: fixed $${usd(t.fixedMonthly)} + usage $${usd(t.usageMonthly)} = $${usd(t.monthly)}/month; $${usd(t.monthlyAtMaxNodes)}/month with every node the autoscaler may add`,
  );
  for (const w of report.warnings) out.push(`  ⚠ ${w}`);
  if (report.perRequest?.length) out.push(...renderPerRequest(report.perRequest));
  return out.join("\n");
}

/** Dollars per million requests at the SLO, one line per service with a targetRps. */
function renderPerRequest(costs: NonNullable<CostReport["perRequest"]>): string[] {
  const money = (n: number | undefined) => (n === undefined ? "unpriced" : `$${n.toFixed(4)}`);
  const out = [
    `  dollars per million requests at the SLO (services[].targetRps, capacity/<service>.json; as if at targetRps all month):`,
  ];
  for (const c of costs) {
    const pods =
      c.pods === undefined
        ? ""
        : `${c.pods} pod(s) at ${round(c.perPodRps!)} req/s each${c.nodeType ? ` on ${c.nodeType} (${c.nodeVcpus} vCPUs)` : ""}; `;
    out.push(
      `      ${c.service.padEnd(28)} ${c.targetRps} req/s: ${pods}compute ${money(c.usdPerMillion.compute)} + data tier ${money(c.usdPerMillion.dataTier)} (${round(100 * (c.dataTierShare ?? 0))}% of it) = ${money(c.usdPerMillion.total)} per million`,
    );
    for (const m of c.missing) out.push(`          ${m}`);
  }
  return out;
}

/** One row per stack: the README's "What it costs" table. */
export function costTable(reports: CostReport[]): string {
  const rows = reports.map((r) => {
    const t = r.totals;
    const nodes = r.nodeRanges.map((n) => `${n.minNodes}..${n.maxNodes}`).join(", ") || "—";
    const unpriced = [...new Set(r.unpriced.map((u) => u.sku))].join(", ") || "—";
    return `| ${r.stack} | $${usd(t.fixedMonthly)} | $${usd(t.usageMonthly)} | $${usd(t.monthly)} | ${nodes} | $${usd(t.monthlyAtMaxNodes)} | ${unpriced} |`;
  });
  return [
    "| stack | fixed / month | usage / month (assumed) | total / month | nodes (min..max) | total at max nodes | unpriced (counted as $0) |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
    perRequestTable(reports),
    "",
    typeTable(reports),
  ].join("\n");
}

/** Dollars per million requests at the SLO, one row per stack and service with a targetRps. */
export function perRequestTable(reports: CostReport[]): string {
  const money = (n: number | undefined) => (n === undefined ? "unpriced" : `$${n.toFixed(4)}`);
  const rows = reports.flatMap((r) =>
    (r.perRequest ?? []).map(
      (c) =>
        `| ${r.stack} | ${c.service} | ${c.targetRps} | ${c.pods ?? "—"}${c.nodeType ? ` on ${c.nodeType}` : ""} | ${money(c.usdPerMillion.compute)} | ${money(c.usdPerMillion.dataTier)} | ${money(c.usdPerMillion.total)} |`,
    ),
  );
  return [
    "| stack | service | targetRps (req/s) | pods at the SLO | compute / million requests | data tier / million requests | total / million requests |",
    "|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/**
 * Every AWS type the stacks plan: billed (the SKUs it bills, priced or not) or free (why). The
 * plan test holds the plans to it: a type neither billed nor free is listed as unclassified.
 */
export function typeTable(reports: CostReport[]): string {
  const billed = new Map<string, Map<string, boolean>>();
  const mark = (type: string, sku: string, priced: boolean) => {
    const skus = billed.get(type) ?? new Map<string, boolean>();
    skus.set(sku, (skus.get(sku) ?? false) || priced);
    billed.set(type, skus);
  };
  for (const r of reports) {
    for (const l of r.lines) mark(l.type, l.sku, true);
    for (const u of r.unpriced) mark(u.type, u.sku, false);
  }
  const free = new Map(reports.flatMap((r) => r.free.map((f) => [f.type, f.reason] as const)));
  const rows = [
    ...[...billed].map(
      ([type, skus]) =>
        `| \`${type}\` | billed | ${[...skus].map(([sku, priced]) => (priced ? `\`${sku}\`` : `\`${sku}\` (unpriced)`)).join(", ")} |`,
    ),
    ...[...free].map(([type, reason]) => `| \`${type}\` | free | ${reason} |`),
  ].sort();
  return [
    "| AWS resource type in the plans | billed? | SKUs (billed) or why it bills nothing (free) |",
    "|---|---|---|",
    ...rows,
  ].join("\n");
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
