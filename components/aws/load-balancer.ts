import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComponentArgsError } from "../../profile/errors";
import { DNS_1123_LABEL } from "../../profile/naming";
import { policyDocument } from "./iam";
import { targetGroupName } from "../../profile/stack-names";
import { mergeTags } from "../../profile/tags";

/** TLS 1.3 with TLS 1.2 fallback (forward-secret ciphers only). */
export const TLS13_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export interface LoadBalancedService {
  /** Service name; requests to `/<name>` and `/<name>/*` go to its target group. */
  name: string;
  /** Container port the targets (pod IPs) listen on. */
  port: number;
  /**
   * Health check path.
   * @default "/healthz"
   */
  healthCheckPath?: string;
}

export interface ListenerRulePlan {
  service: string;
  priority: number;
  pathPatterns: string[];
}

/** One rule per service, in the given order, priorities 100, 110, ... (gaps leave room for manual rules). */
export function listenerRulePlan(services: LoadBalancedService[]): ListenerRulePlan[] {
  if (services.length === 0) throw new ComponentArgsError("LoadBalancerArgs.services", "list at least one service to route to");
  const seen = new Set<string>();
  return services.map((s, i) => {
    if (!DNS_1123_LABEL.test(s.name))
      throw new ComponentArgsError(`LoadBalancerArgs.services[${i}].name`, `"${s.name}" is not a DNS-1123 label`);
    if (seen.has(s.name)) throw new ComponentArgsError(`LoadBalancerArgs.services[${i}].name`, `"${s.name}" is listed twice`);
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)
      throw new ComponentArgsError(`LoadBalancerArgs.services[${i}].port`, `${s.port} is not a TCP port`);
    seen.add(s.name);
    return { service: s.name, priority: 100 + 10 * i, pathPatterns: [`/${s.name}`, `/${s.name}/*`] };
  });
}

export type ListenerAction =
  | { type: "redirect"; redirect: { protocol: "HTTPS"; port: "443"; statusCode: "HTTP_301" } }
  | { type: "fixed-response"; fixedResponse: { contentType: "application/json"; statusCode: "404"; messageBody: string } };

/** Unmatched paths: a fixed 404 from the ALB itself, so nothing unrouted reaches a service. */
export const NOT_FOUND_ACTION: ListenerAction = {
  type: "fixed-response",
  fixedResponse: { contentType: "application/json", statusCode: "404", messageBody: '{"error":"not_found"}' },
};

/**
 * Port 80: with a certificate, a permanent redirect to HTTPS (nothing is served in clear text);
 * without one (dev without a domain), it serves the routes itself.
 */
export function httpDefaultAction(hasCertificate: boolean): ListenerAction {
  return hasCertificate
    ? { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }
    : NOT_FOUND_ACTION;
}

export interface LoadBalancerArgs {
  /** VPC of the target groups (Network.vpcId). Required. */
  vpcId: pulumi.Input<string>;
  /** Public subnets, one per AZ (Network.publicSubnetIds). Required. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The ALB security group (SecurityGroups.albSecurityGroupId). Required. */
  securityGroupId: pulumi.Input<string>;
  /** Services to route to, one target group each. Required, at least one. */
  services: LoadBalancedService[];
  /**
   * Idle timeout, seconds (1..4000). Must exceed the WebSocket heartbeat and stay below the
   * services' keep-alive timeout (the lead's checks compare them).
   * @default 60
   */
  idleTimeoutSeconds?: number;
  /**
   * ACM certificate ARN. Set: HTTPS listener (TLS 1.3 policy) and HTTP -> HTTPS redirect.
   * Unset: HTTP only.
   * @default undefined
   */
  certificateArn?: pulumi.Input<string>;
  /**
   * HTTPS listener security policy.
   * @default "ELBSecurityPolicy-TLS13-1-2-2021-06"
   */
  sslPolicy?: string;
  /**
   * Seconds in-flight requests get when a target is deregistered (0..3600).
   * @default 30
   */
  deregistrationDelaySeconds?: number;
  /**
   * Health check interval, seconds.
   * @default 15
   */
  healthCheckIntervalSeconds?: number;
  /**
   * Write access logs to an encrypted, private S3 bucket created here.
   * @default false
   */
  accessLogs?: boolean;
  /**
   * Days access log objects are kept.
   * @default 90
   */
  accessLogsRetentionDays?: number;
  /**
   * Refuse deletion of the ALB (and keep the log bucket on stack destroy).
   * @default false
   */
  deletionProtection?: boolean;
  /**
   * Physical ALB name (AWS allows 32 characters; see stack-names.ts loadBalancerName).
   * @default auto-named by pulumi-aws
   */
  loadBalancerName?: string;
  /**
   * Stack scope hashed into the target group names, so two stacks never share one (targetGroupName).
   * @default the component name
   */
  nameScope?: string;
  /**
   * A header CloudFront adds to every origin request (its value a secret): the listener rules
   * forward only requests that carry it, so the ALB cannot be used to bypass the CDN.
   * @default undefined (rules match on the path only)
   */
  originVerifyHeader?: { name: string; value: pulumi.Input<string> };
  /**
   * Extra tags; they override the defaults.
   * @default {}
   */
  tags?: Record<string, string>;
}

/** A public ALB: one ip-target group per service, path routing, HTTPS with TLS 1.3 when a certificate is set. */
export class LoadBalancer extends pulumi.ComponentResource {
  public readonly arn: pulumi.Output<string>;
  public readonly arnSuffix: pulumi.Output<string>;
  public readonly dnsName: pulumi.Output<string>;
  public readonly zoneId: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  /** Target group ARN per service name: what the services register their pods with (TargetGroupBinding). */
  public readonly targetGroupArns: Record<string, pulumi.Output<string>>;
  /** `https` is undefined without a certificate. */
  public readonly listenerArns: { http: pulumi.Output<string>; https?: pulumi.Output<string> };
  public readonly idleTimeoutSeconds: number;
  /** Undefined when `accessLogs` is off. */
  public readonly accessLogsBucket: pulumi.Output<string> | undefined;

  constructor(name: string, args: LoadBalancerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:aws:LoadBalancer", name, {}, opts);
    const tags = mergeTags(args.tags);
    const rules = listenerRulePlan(args.services);
    const idleTimeout = args.idleTimeoutSeconds ?? 60;
    if (!Number.isInteger(idleTimeout) || idleTimeout < 1 || idleTimeout > 4000) {
      throw new ComponentArgsError("LoadBalancerArgs.idleTimeoutSeconds", `${idleTimeout} must be 1..4000 seconds`);
    }
    const deregistrationDelay = args.deregistrationDelaySeconds ?? 30;
    if (!Number.isInteger(deregistrationDelay) || deregistrationDelay < 0 || deregistrationDelay > 3600) {
      throw new ComponentArgsError(
        "LoadBalancerArgs.deregistrationDelaySeconds",
        `${deregistrationDelay} must be 0..3600 seconds`,
      );
    }
    const deletionProtection = args.deletionProtection ?? false;
    const hasCertificate = args.certificateArn !== undefined;
    const parent = { parent: this };

    const logs = args.accessLogs
      ? this.#accessLogsBucket(name, args.accessLogsRetentionDays ?? 90, deletionProtection, tags)
      : undefined;

    const alb = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        ...(args.loadBalancerName ? { name: args.loadBalancerName } : {}),
        loadBalancerType: "application",
        internal: false,
        subnets: args.subnetIds,
        securityGroups: [args.securityGroupId],
        idleTimeout,
        dropInvalidHeaderFields: true,
        desyncMitigationMode: "defensive",
        enableHttp2: true,
        enableDeletionProtection: deletionProtection,
        accessLogs: logs ? { bucket: logs.bucket.bucket, prefix: "alb", enabled: true } : undefined,
        tags,
      },
      // ELB checks that it may write to the bucket when logging is enabled: policy first.
      { parent: this, dependsOn: logs ? [logs.policy] : [] },
    );

    const targetGroups = Object.fromEntries(
      args.services.map((s) => [
        s.name,
        new aws.lb.TargetGroup(
          `${name}-${s.name}`,
          {
            // Explicit: the auto-name (logical name + 8) overflows AWS's 32 characters.
            name: targetGroupName(args.nameScope ?? name, s.name, s.port),
            vpcId: args.vpcId,
            targetType: "ip",
            protocol: "HTTP",
            port: s.port,
            deregistrationDelay,
            healthCheck: {
              enabled: true,
              path: s.healthCheckPath ?? "/healthz",
              port: "traffic-port",
              protocol: "HTTP",
              matcher: "200",
              interval: args.healthCheckIntervalSeconds ?? 15,
              timeout: 5,
              healthyThreshold: 2,
              unhealthyThreshold: 3,
            },
            tags: { ...tags, service: s.name },
          },
          parent,
        ),
      ]),
    ) as Record<string, aws.lb.TargetGroup>;

    const http = new aws.lb.Listener(
      `${name}-http`,
      { loadBalancerArn: alb.arn, port: 80, protocol: "HTTP", defaultActions: [httpDefaultAction(hasCertificate)], tags },
      parent,
    );
    const https = hasCertificate
      ? new aws.lb.Listener(
          `${name}-https`,
          {
            loadBalancerArn: alb.arn,
            port: 443,
            protocol: "HTTPS",
            sslPolicy: args.sslPolicy ?? TLS13_POLICY,
            certificateArn: args.certificateArn,
            defaultActions: [NOT_FOUND_ACTION],
            tags,
          },
          parent,
        )
      : undefined;
    const serving = https ?? http;
    for (const rule of rules) {
      new aws.lb.ListenerRule(
        `${name}-${rule.service}`,
        {
          listenerArn: serving.arn,
          priority: rule.priority,
          conditions: [
            { pathPattern: { values: rule.pathPatterns } },
            ...(args.originVerifyHeader
              ? [{ httpHeader: { httpHeaderName: args.originVerifyHeader.name, values: [args.originVerifyHeader.value] } }]
              : []),
          ],
          actions: [{ type: "forward", targetGroupArn: targetGroups[rule.service]!.arn }],
          tags,
        },
        parent,
      );
    }

    this.arn = alb.arn;
    this.arnSuffix = alb.arnSuffix;
    this.dnsName = alb.dnsName;
    this.zoneId = alb.zoneId;
    this.securityGroupId = pulumi.output(args.securityGroupId);
    this.targetGroupArns = Object.fromEntries(Object.entries(targetGroups).map(([k, tg]) => [k, tg.arn]));
    this.listenerArns = { http: http.arn, ...(https ? { https: https.arn } : {}) };
    this.idleTimeoutSeconds = idleTimeout;
    this.accessLogsBucket = logs?.bucket.bucket;
    this.registerOutputs({
      arn: this.arn,
      dnsName: this.dnsName,
      zoneId: this.zoneId,
      securityGroupId: this.securityGroupId,
      targetGroupArns: this.targetGroupArns,
      listenerArns: this.listenerArns,
      accessLogsBucket: this.accessLogsBucket,
    });
  }

  /**
   * Private bucket for ALB access logs: SSE-S3 (ALB log delivery supports only S3-managed keys),
   * public access blocked, bucket-owner-enforced, TLS-only, expiring objects, and a policy that
   * lets only the ELB log delivery (regional ELB account and the log delivery service) write
   * under `alb/AWSLogs/<account>/`.
   */
  #accessLogsBucket(name: string, retentionDays: number, retain: boolean, tags: Record<string, string>) {
    const parent = { parent: this };
    const account = aws.getCallerIdentityOutput({}, parent);
    const elbAccount = aws.elb.getServiceAccountOutput({}, parent);
    const bucket = new aws.s3.Bucket(
      `${name}-access-logs`,
      { forceDestroy: !retain, tags },
      { parent: this, retainOnDelete: retain },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-access-logs`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
      parent,
    );
    const block = new aws.s3.BucketPublicAccessBlock(
      `${name}-access-logs`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-access-logs`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      parent,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-access-logs`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire",
            status: "Enabled",
            filter: {},
            expiration: { days: retentionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      parent,
    );
    const policy = new aws.s3.BucketPolicy(
      `${name}-access-logs`,
      {
        bucket: bucket.id,
        policy: pulumi
          .all([bucket.arn, account.accountId, elbAccount.arn])
          .apply(([arn, accountId, elbArn]) => JSON.stringify(accessLogsBucketPolicy(arn, accountId, elbArn))),
      },
      { parent: this, dependsOn: [block] },
    );
    return { bucket, policy };
  }
}

/** Bucket policy for ALB access logs (pure, so the test can read it). */
export function accessLogsBucketPolicy(bucketArn: string, accountId: string, elbAccountArn: string) {
  const objects = `${bucketArn}/alb/AWSLogs/${accountId}/*`;
  return policyDocument([
    { Sid: "ElbAccountWrites", Effect: "Allow", Principal: { AWS: elbAccountArn }, Action: "s3:PutObject", Resource: objects },
    {
      Sid: "LogDeliveryWrites",
      Effect: "Allow",
      Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: objects,
    },
    {
      Sid: "TlsOnly",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "s3:*",
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
  ]);
}
