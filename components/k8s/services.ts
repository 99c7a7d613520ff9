import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseMigration } from "./db-migration";
import { ServiceImage } from "./image";
import { LoadBalancerController } from "./lb-controller";
import type { PlatformEndpoints, ServiceSettings } from "../../profile/service-settings";
import { UaipService } from "./service";
import { ServiceRole } from "../aws/service-role";
import { PART_OF, workloadNames } from "./workload-spec";
import { ComponentArgsError } from "../../profile/errors";

export interface ServicesArgs {
  /** Environment name, passed to every service. */
  environment: string;
  /** What each service gets (servicePlan(profile).services). */
  services: Pick<ServiceSettings, "profile" | "runtime">[];
  /** One namespace shared by the UAIP services (one NetworkPolicy/monitoring scope). @default "uaip" */
  namespace?: string;
  cluster: { name: pulumi.Input<string>; oidcProviderArn: pulumi.Input<string>; oidcIssuerUrl: pulumi.Input<string> };
  vpcId: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** ALB target group per service name. */
  targetGroupArns: Record<string, pulumi.Input<string>>;
  /** @default 30 */
  deregistrationDelaySeconds?: number;
  /** Where things are; `dbUser` is the master user, which only the migration Job uses. */
  endpoints: pulumi.Input<PlatformEndpoints>;
  /** `databaseMasterPassword` goes only into the migration Job; each service gets its own role and password. */
  credentials: { redisAuthToken: pulumi.Input<string>; databaseMasterPassword: pulumi.Input<string> };
  /** ConfigMap with the RDS CA bundle, mounted into the migration Job. @default "rds-ca" */
  rdsCaConfigMapName?: string;
  /**
   * ARN of the CloudFront distribution; each service whose runtime purges the CDN gets an IRSA
   * role allowed to invalidate this distribution only. Required when any service purges the CDN.
   * @default undefined
   */
  cdnDistributionArn?: pulumi.Input<string>;
  /** AWS tags (ECR repositories, IAM roles). @default {} */
  tags?: Record<string, string>;
}

/**
 * The UAIP services on the cluster: their namespace, the AWS Load Balancer Controller that
 * binds pods to the ALB's target groups, and one UaipService (with its image) per profile entry.
 * Pass the cluster's Kubernetes provider in `opts.providers`.
 */
export class Services extends pulumi.ComponentResource {
  public readonly namespace: string;
  public readonly images: Record<string, pulumi.Output<string>> = {};
  public readonly configMapData: Record<string, pulumi.Output<Record<string, string>>> = {};

  constructor(name: string, args: ServicesArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:k8s:Services", name, {}, opts);
    this.namespace = args.namespace ?? "uaip";
    const ns = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: this.namespace, labels: { "app.kubernetes.io/part-of": PART_OF } } }, { parent: this });

    const missing = args.services.map((s) => s.profile.name).filter((n) => !args.targetGroupArns[n]);
    if (missing.length) throw new ComponentArgsError("ServicesArgs.targetGroupArns", `no ALB target group for service(s) ${missing.join(", ")}; the load balancer must get the same services list`);

    const controller = new LoadBalancerController(
      `${name}-lbc`,
      { clusterName: args.cluster.name, oidcProviderArn: args.cluster.oidcProviderArn, oidcIssuerUrl: args.cluster.oidcIssuerUrl, vpcId: args.vpcId, region: args.region, targetGroupArns: Object.values(args.targetGroupArns), tags: args.tags },
      { parent: this },
    );

    // Refused before anything is created: a purge without a distribution would fail on every invalidation.
    for (const { profile, runtime } of args.services) {
      if (runtime.cache.cdn.enabled && args.cdnDistributionArn === undefined) {
        throw new ComponentArgsError(`services.${profile.name}.runtime.cache.cdn.enabled`, "the service purges the CDN but the platform has no CloudFront distribution; enable cdn or set runtime.cache.cdn.enabled false");
      }
    }
    const images = Object.fromEntries(
      args.services.map(({ profile }) => [profile.name, new ServiceImage(`${name}-${profile.name}-image`, { image: profile.image, build: profile.build, tags: args.tags }, { parent: this })]),
    );
    // Runs the migrations and creates each service's role (CONNECTION LIMIT = its slice) with the
    // master password, before any Deployment rolls. Every service image ships @uaip/runtime's migrations.
    const migration = new DatabaseMigration(
      `${name}-db`,
      {
        namespace: ns.metadata.name,
        image: images[args.services[0].profile.name].imageRef,
        services: args.services.map((s) => s.profile),
        database: pulumi.output(args.endpoints).apply((e) => ({ host: e.dbHost, port: e.dbPort, name: e.dbName, user: e.dbUser })),
        masterPassword: args.credentials.databaseMasterPassword,
        caConfigMapName: args.rdsCaConfigMapName,
      },
      { parent: this },
    );

    for (const { profile, runtime } of args.services) {
      const role = runtime.cache.cdn.enabled
        ? new ServiceRole(
            `${name}-${profile.name}-iam`,
            { namespace: this.namespace, serviceAccount: workloadNames(profile.name, this.namespace).serviceAccount, oidcProviderArn: args.cluster.oidcProviderArn, oidcIssuerUrl: args.cluster.oidcIssuerUrl, cdnDistributionArn: args.cdnDistributionArn!, tags: args.tags },
            { parent: this },
          )
        : undefined;
      const image = images[profile.name];
      const service = new UaipService(
        `${name}-${profile.name}`,
        {
          service: profile,
          runtime,
          environment: args.environment,
          namespace: this.namespace,
          image: image.imageRef,
          targetGroupArn: args.targetGroupArns[profile.name],
          deregistrationDelaySeconds: args.deregistrationDelaySeconds,
          endpoints: pulumi.output(args.endpoints).apply((e) => ({ ...e, dbUser: migration.roles[profile.name] })),
          credentials: { redisAuthToken: args.credentials.redisAuthToken, databasePassword: migration.passwords[profile.name] },
          dependsOn: [migration.job],
          roleArn: role?.roleArn,
        },
        // The TargetGroupBinding CRD comes with the controller's chart.
        { parent: this, dependsOn: [ns, controller.release] },
      );
      this.images[profile.name] = image.imageRef;
      this.configMapData[profile.name] = service.configMapData;
    }
    this.registerOutputs({ namespace: this.namespace, images: this.images });
  }
}
