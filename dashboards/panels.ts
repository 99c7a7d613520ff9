import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { DATASOURCE } from "./options";

/**
 * Shared panel plumbing: every panel and every query points at the fixed datasource uid, and
 * every panel gets a description and a unit (the constructor requires both, so none is forgotten).
 */

export interface Query {
  expr: string;
  legend: string;
}

/** A time-series panel on the fixed Prometheus datasource, legend shown as a table with last/max. */
export function timeseries(title: string, description: string, unit: string, queries: readonly Query[]): PanelBuilder {
  const panel = new PanelBuilder()
    .title(title)
    .description(description)
    .unit(unit)
    .datasource(DATASOURCE)
    .min(0)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(["lastNotNull", "max"]),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  queries.forEach((q, i) => {
    panel.withTarget(
      new DataqueryBuilder()
        .datasource(DATASOURCE)
        .expr(q.expr)
        .legendFormat(q.legend)
        .refId(String.fromCharCode(65 + i)),
    );
  });
  return panel;
}

/** Draws an objective (e.g. the 500 ms p95 SLO) as a dashed red line on the panel. */
export function withObjective(panel: PanelBuilder, value: number): PanelBuilder {
  return panel
    .thresholds(
      new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
        { value: null, color: "green" },
        { value, color: "red" },
      ]),
    )
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
}

/** Gives panels (rows included) stable ids in layout order: Grafana would otherwise renumber them on every save. */
export function numberPanels(built: dashboard.Dashboard): dashboard.Dashboard {
  (built.panels ?? []).forEach((p, i) => {
    (p as { id?: number }).id = i + 1;
  });
  return built;
}

/** What every UAIP dashboard shares: stable uid, tags, refresh, default range and timezone. */
export function uaipDashboard(title: string, uid: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(["uaip", "generated"])
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .timezone("browser");
}
