/**
 * Every query the monitoring ships, as data: each dashboard's panels (title, unit, grid position,
 * target expressions as Grafana runs them) and each recording rule's expression, with the
 * expected-empty condition declared next to it (expected-empty.ts). The load run evaluates them
 * against a real Prometheus and renders the dashboards from the results.
 */
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { emptyWhen, type EmptyWhen } from "./expected-empty";
import type { MonitoringOptions } from "./options";
import { platformOverview } from "./platform-overview";
import { buildRuleGroups } from "./rules";
import { serviceOverview } from "./service-overview";

export interface TargetQuery {
  refId: string;
  /** The expression as written in the dashboard, Grafana variables (`$service`, `$__rate_interval`) included. */
  expr: string;
  /** Grafana's legend format, e.g. `{{service}} in use`. */
  legend: string;
  emptyWhen?: EmptyWhen;
}

export interface PanelQueries {
  id: number;
  title: string;
  unit: string;
  /** Grafana grid units: 24 columns, rows of 30 px. */
  gridPos: { x: number; y: number; w: number; h: number };
  targets: TargetQuery[];
  /** Dashed objective line (the SLO), from the panel's thresholds, if any. */
  objective?: number;
}

export interface RowHeader {
  title: string;
  y: number;
}

export interface DashboardQueries {
  uid: string;
  title: string;
  /** Template variables the expressions use (the service overview's `service`). */
  variables: string[];
  rows: RowHeader[];
  panels: PanelQueries[];
}

export interface RuleQuery {
  record: string;
  expr: string;
  emptyWhen?: EmptyWhen;
}

interface BuiltPanel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: { refId?: string; expr?: string; legendFormat?: string }[];
  fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps?: { value: number | null }[] } } };
}

function fromDashboard(built: dashboard.Dashboard): DashboardQueries {
  const all = (built.panels ?? []) as BuiltPanel[];
  const rows = all.filter((p) => p.type === "row").map((p) => ({ title: p.title ?? "", y: p.gridPos?.y ?? 0 }));
  const panels = all
    .filter((p) => p.type !== "row")
    .map((p) => {
      const objective = p.fieldConfig?.defaults?.thresholds?.steps?.find((s) => s.value !== null)?.value ?? undefined;
      return {
        id: p.id ?? 0,
        title: p.title ?? "",
        unit: p.fieldConfig?.defaults?.unit ?? "short",
        gridPos: p.gridPos ?? { x: 0, y: 0, w: 12, h: 8 },
        targets: (p.targets ?? []).map((t) => ({
          refId: t.refId ?? "",
          expr: t.expr ?? "",
          legend: t.legendFormat ?? "",
          emptyWhen: emptyWhen(t.expr ?? ""),
        })),
        ...(objective === undefined || objective === null ? {} : { objective }),
      };
    });
  const variables = ((built.templating?.list ?? []) as { name?: string }[]).map((v) => v.name ?? "").filter(Boolean);
  return { uid: built.uid ?? "", title: built.title ?? "", variables, rows, panels };
}

/** Both dashboards' panels and queries, built from the same options as the generated JSON. */
export function dashboardQueries(options: MonitoringOptions = {}): DashboardQueries[] {
  return [fromDashboard(platformOverview(options)), fromDashboard(serviceOverview(options))];
}

/** Every recording rule's expression. */
export function recordingRuleQueries(options: MonitoringOptions = {}): RuleQuery[] {
  return buildRuleGroups(options).recording.rules.map((r) => ({ record: r.record, expr: r.expr, emptyWhen: emptyWhen(r.expr) }));
}
