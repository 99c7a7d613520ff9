import { parser } from "@prometheus-io/lezer-promql";
import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";

/** Helpers for the dashboard and rule tests: find every PromQL expression and parse it. */

export interface PanelLike {
  type?: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { expr?: string; datasource?: { uid?: string }; refId?: string }[];
}

/** Non-row panels of a built dashboard. */
export function panelsOf(dashboard: Dashboard): PanelLike[] {
  return ((dashboard.panels ?? []) as PanelLike[]).filter((p) => p.type !== "row");
}

/** Replaces Grafana's template variables by what Grafana sends to Prometheus, so the result is plain PromQL. */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll("$__interval", "1m").replaceAll("$service", "some-service");
}

export interface Parsed {
  errors: { from: number; to: number }[];
  metrics: string[];
}

/** Parses with the Prometheus UI's own grammar; returns error nodes and the metric names of vector selectors. */
export function parsePromql(expr: string): Parsed {
  const errors: Parsed["errors"] = [];
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push({ from: node.from, to: node.to });
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") metrics.push(expr.slice(node.from, node.to));
    },
  });
  return { errors, metrics };
}
