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
    `  assumptions (profile cost.assumptions): ${a.requestsPerMonth} requests, ${a.gbOutPerMonth} GB out, ${a.logGbPerMonth} GB logs, ${a.natGbPerMonth} GB through NAT per month`,
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
    for (const u of report.unpriced) out.push(`      ${u.resource} (${u.type}): ${u.sku}${u.what ? ` — ${u.what}` : ""}`);
  }
  const t = report.totals;
  out.push(
    `  total: fixed $${usd(t.fixedMonthly)} + usage $${usd(t.usageMonthly)} = $${usd(t.monthly)}/month; $${usd(t.monthlyAtMaxNodes)}/month with every node the autoscaler may add`,
  );
  for (const w of report.warnings) out.push(`  ⚠ ${w}`);
  return out.join("\n");
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
  ].join("\n");
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
