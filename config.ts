import * as pulumi from "@pulumi/pulumi";
import { ProfileError } from "./profile/errors";
import { unknownRegionIssue } from "./profile/aws-rules";
import { parseConfig } from "./profile/parse";
import { webhookUrlIssue } from "./profile/provider-rules";
import type { Profile } from "./profile/schema";

/** The project's config namespace: keys are written `uaip:<key>` in Pulumi.<stack>.yaml. */
export const CONFIG_NAMESPACE = "uaip";

/** Keys that hold secrets; they are read as Outputs and never enter the profile. */
export const SECRET_KEYS = ["grafanaAdminPassword", "alertWebhookUrl"] as const;

export interface PlatformConfig {
  profile: Profile;
  /** Pulumi project and stack: they scope the physical names of AWS resources. */
  project: string;
  stack: string;
  /** `aws:region` of the stack. @default "us-east-1" */
  region: string;
  secrets: {
    /** Grafana admin password; generated when unset. */
    grafanaAdminPassword?: pulumi.Output<string>;
    /** Alertmanager webhook receiver URL; alerts go nowhere when unset. */
    alertWebhookUrl?: pulumi.Output<string>;
  };
}

/**
 * Reads every `uaip:` key of the current stack (structured values arrive as JSON) and parses
 * them into the profile. This is the only place that reads Pulumi config.
 */
export function loadConfig(): PlatformConfig {
  const stack = pulumi.getStack();
  const raw = profileInput(pulumi.runtime.allConfig(), stack);
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  // A secret: checked here without printing it. The offline plan's "[secret]" placeholder is not a URL to judge.
  const webhook = pulumi.runtime.getConfig(`${CONFIG_NAMESPACE}:alertWebhookUrl`);
  const webhookIssue = webhook && webhook !== "[secret]" ? webhookUrlIssue(webhook) : undefined;
  if (webhookIssue) throw new ProfileError([webhookIssue]);
  const region = new pulumi.Config("aws").get("region") ?? "us-east-1";
  return {
    profile: parseWithRegion(raw, region),
    project: pulumi.getProject(),
    stack,
    region,
    secrets: {
      grafanaAdminPassword: optionalSecret(config, "grafanaAdminPassword"),
      alertWebhookUrl: optionalSecret(config, "alertWebhookUrl"),
    },
  };
}

/** parseConfig, with an unknown `aws:region` listed among its issues (AwsPlatform checks the region against the profile). */
function parseWithRegion(raw: Record<string, unknown>, region: string): Profile {
  const regionIssue = unknownRegionIssue(region);
  try {
    return parseConfig(raw);
  } catch (err) {
    if (regionIssue && err instanceof ProfileError) throw new ProfileError([...err.issues, regionIssue], { cause: err });
    throw err;
  }
}

/**
 * The profile's input from a stack's config as the CLI hands it over (`namespace:key` -> string):
 * the `uaip:` keys without the prefix, JSON values parsed, secrets left out, and `environment`
 * defaulting to the stack name. Pure: the offline plan's tests call it with readStackConfig's map.
 */
export function profileInput(config: Record<string, string>, stack: string): Record<string, unknown> {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    if ((SECRET_KEYS as readonly string[]).includes(name)) continue;
    raw[name] = parseValue(value);
  }
  // Pulumi.yaml declares environment with the default "", meaning "the stack name".
  if (raw.environment === undefined || raw.environment === "") raw.environment = stack;
  return raw;
}

/** A secret key whose project default is "" (unset): undefined then, so callers generate or skip it. */
function optionalSecret(config: pulumi.Config, key: (typeof SECRET_KEYS)[number]): pulumi.Output<string> | undefined {
  // runtime.getConfig reads the raw value without Config.get's "use getSecret" warning.
  return pulumi.runtime.getConfig(`${CONFIG_NAMESPACE}:${key}`) ? config.requireSecret(key) : undefined;
}

/** Config values arrive as strings; objects, arrays, numbers and booleans as JSON text. */
function parseValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
