/**
 * The capacity chart: achieved throughput against p99 latency (from the intended send times) for
 * each step of `npm run capacity`, with the SLO's latency as a dashed line and the knee marked.
 * A vega-lite spec rendered to SVG by vega.ts, like the load run's latency chart.
 */
import type { CapacityFile } from "../../profile/capacity-file";
import { withinSlo } from "./knee";
import { renderVegaLite, type TopLevelSpec } from "./vega";

const SLO_COLOR = "#dc2626";
const KNEE_COLOR = "#16a34a";

export function capacityChartSpec(file: CapacityFile): TopLevelSpec {
  // The knee's own rule (knee.ts), shown in each point's tooltip.
  const rows = file.steps.map((s) => ({ ...s, withinSlo: withinSlo(s, file.slo) }));
  const knee = file.steps.find(
    (s) => s.p99Ms === file.knee.p99Ms && Math.abs(s.achievedRps / file.cpuCores - file.knee.rateRpsPerCore) < 1e-6,
  );
  const x = { field: "achievedRps", type: "quantitative", title: "achieved throughput (req/s, responses)" } as const;
  // Log scale: p99 spans milliseconds at low rates to seconds past the knee.
  const y = {
    field: "p99Ms",
    type: "quantitative",
    title: "p99 latency (ms, from intended send time)",
    scale: { type: "log" },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `Capacity of ${file.service} on ${file.cpuCores} CPU core${file.cpuCores === 1 ? "" : "s"}`,
      subtitle: `knee ${Math.round(file.knee.rateRpsPerCore * file.cpuCores)} req/s (p99 ${file.knee.p99Ms} ms, errors ${(file.knee.errorRate * 100).toFixed(2)} %); dashed: the SLO, p99 < ${file.slo.latencyP99Ms} ms; load average ${file.machine.loadAverage.join(" ")}`,
      anchor: "start",
    },
    width: 640,
    height: 320,
    background: "white",
    layer: [
      {
        data: { values: rows },
        mark: { type: "line", point: { filled: true, size: 60 }, color: "#2563eb" },
        encoding: {
          x,
          y,
          order: { field: "rateRps", type: "quantitative" },
          tooltip: [
            { field: "rateRps", title: "offered req/s" },
            { field: "achievedRps", title: "achieved req/s" },
            { field: "p99Ms", title: "p99 ms" },
            { field: "errorRate", title: "errors", format: ".2%" },
            { field: "withinSlo", title: "within the SLO" },
          ],
        },
      },
      {
        data: { values: [{ slo: file.slo.latencyP99Ms }] },
        mark: { type: "rule", color: SLO_COLOR, strokeDash: [6, 4] },
        encoding: { y: { field: "slo", type: "quantitative" } },
      },
      ...(knee
        ? [
            {
              data: { values: [{ ...knee, label: `knee: ${Math.round(knee.achievedRps)} req/s` }] },
              layer: [
                { mark: { type: "point", shape: "diamond", size: 260, filled: true, color: KNEE_COLOR }, encoding: { x, y } },
                {
                  mark: { type: "text", dx: 10, dy: -14, align: "left", color: KNEE_COLOR, fontWeight: "bold" },
                  encoding: { x, y, text: { field: "label", type: "nominal" } },
                },
              ],
            } as const,
          ]
        : []),
    ],
  } as TopLevelSpec;
}

export function capacityChart(file: CapacityFile): Promise<string> {
  return renderVegaLite(capacityChartSpec(file));
}
