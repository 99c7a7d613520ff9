import { checkRuntimeEnv, formatRuntimeEnvIssue } from "@uaip/runtime/config";
import type { Check } from "../../../profile/checks";
import { configMapData, kubernetesKind, type PlanResource } from "./plan-resource";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MAX_OLD_SPACE = /--max[-_]old[-_]space[-_]size=(\d+)/;

/**
 * What each pod of the plan will load, from the resources alone: the env a container gets from its
 * ConfigMaps (envFrom, later sources win) and its literal env entries, judged by the runtime's own
 * validator (`checkRuntimeEnv`, what `loadRuntimeConfig` runs at start-up) with the heap its
 * NODE_OPTIONS gives. The profile's `pod-config:<service>` check judges the same env before the
 * platform exists, by profile key; this one sees the values the platform wrote. Secrets are not
 * read (they are optional to the loader and redacted in the plan).
 */
export function checkPodEnv(resources: PlanResource[]): Check {
  const name = "pod-env:runtime-loads";
  const configMaps = configMapData(resources);
  const problems: string[] = [];
  let checked = 0;
  for (const r of resources.filter((x) => ["Deployment", "StatefulSet"].includes(kubernetesKind(x)?.kind ?? ""))) {
    const i = r.inputs as Obj;
    const ns = i.metadata?.namespace ?? "default";
    for (const c of (i.spec?.template?.spec?.containers ?? []) as Obj[]) {
      const env: Record<string, string> = {};
      for (const from of (c.envFrom ?? []) as Obj[]) {
        const data = from.configMapRef && configMaps.get(`${ns}/${from.configMapRef.name}`);
        for (const [k, v] of Object.entries((data ?? {}) as Record<string, unknown>))
          if (typeof v === "string") env[`${from.prefix ?? ""}${k}`] = v;
      }
      for (const e of (c.env ?? []) as Obj[]) if (typeof e.value === "string") env[e.name] = e.value;
      if (!Object.keys(env).some((k) => k.startsWith("UAIP_"))) continue;
      checked++;
      const heap = MAX_OLD_SPACE.exec(env.NODE_OPTIONS ?? "")?.[1];
      const { issues } = checkRuntimeEnv(env, heap ? { heapMiB: Number(heap) } : undefined);
      for (const issue of issues)
        problems.push(`${kubernetesKind(r)!.kind} "${r.name}" container ${c.name}: ${formatRuntimeEnvIssue(issue)}`);
    }
  }
  return problems.length
    ? {
        name,
        ok: false,
        detail: `${problems.join("; ")}; fix the profile key that writes it (the plan's pod-config check names it)`,
      }
    : {
        name,
        ok: true,
        detail: `${checked} container(s) with UAIP_* variables: the runtime's loader accepts each env with its pod's heap`,
      };
}
