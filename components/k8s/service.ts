import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { RuntimeSettings } from "@uaip/runtime/config";
import type { ServiceProfile } from "../../profile/schema";
import { serviceEnv, type PlatformEndpoints } from "../../profile/service-settings";
import { withRdsCaBundle } from "./rds-ca";
import {
  configMapManifest,
  deploymentManifest,
  hpaManifest,
  pdbManifest,
  secretManifest,
  serviceAccountManifest,
  serviceManifest,
  targetGroupBindingManifest,
  workloadNames,
} from "./workload-spec";

export interface UaipServiceArgs {
  /** The service's entry of the profile: name, port, resources, HPA, pool. */
  service: ServiceProfile;
  /** Its effective runtime settings (shared settings + its overrides + its pool). */
  runtime: RuntimeSettings;
  /** Environment name, passed to the service as UAIP_ENVIRONMENT. */
  environment: string;
  /** Namespace the objects go in (shared by all UAIP services; created by the caller). */
  namespace: string;
  /** Image reference to run. */
  image: pulumi.Input<string>;
  /** ALB target group the pods register with (through a TargetGroupBinding). */
  targetGroupArn: pulumi.Input<string>;
  /** Seconds the ALB drains a leaving target; sets the pod's termination timing. @default 30 */
  deregistrationDelaySeconds?: number;
  /** Where Redis, PostgreSQL and the CDN are. */
  endpoints: pulumi.Input<PlatformEndpoints>;
  /** Redis AUTH token and the service's own database password: stored in a Secret, never a ConfigMap. */
  credentials: { redisAuthToken: pulumi.Input<string>; databasePassword: pulumi.Input<string> };
  /** The Helm release that installs the TargetGroupBinding CRD (the LB controller's); the binding waits for it. @default none */
  crdRelease?: pulumi.Resource;
  /** The RDS CA bundle ConfigMap (k8s/rds-ca.ts) to mount where endpoints.dbSslCaFile points; the Deployment waits for it. @default none */
  rdsCa?: pulumi.Resource;
  /** IRSA role the ServiceAccount carries (the runtime's AWS calls). @default none */
  roleArn?: pulumi.Input<string>;
  /** Resources the Deployment waits for, e.g. the migration Job that creates its role. @default [] */
  dependsOn?: pulumi.Resource[];
}

/**
 * One UAIP service on Kubernetes: ServiceAccount, runtime ConfigMap, credentials Secret,
 * Deployment (no replicas: the HPA owns them), Service, HPA, PDB and the TargetGroupBinding
 * that registers its pods with the ALB. Pass the cluster's provider in `opts.provider`.
 */
export class UaipService extends pulumi.ComponentResource {
  public readonly configMapData: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: UaipServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:k8s:UaipService", name, {}, opts);
    const { service, runtime } = args;
    const names = workloadNames(service.name, args.namespace);
    // The component's own dependsOn (the namespace, the LB controller) must hold back every child:
    // Pulumi does not pass it down by itself.
    const child = { parent: this, dependsOn: opts.dependsOn };
    const after = (...deps: pulumi.Resource[]) => pulumi.mergeOptions(child, { dependsOn: deps });

    new k8s.core.v1.ServiceAccount(`${name}-sa`, serviceAccountManifest(names, service, args.roleArn), child);

    this.configMapData = pulumi
      .output(args.endpoints)
      .apply((endpoints) => serviceEnv(args.environment, { profile: service, runtime }, endpoints));
    const configMap = new k8s.core.v1.ConfigMap(`${name}-runtime`, configMapManifest(names, service, this.configMapData), child);

    // The admin token exists only when the profile turns the admin endpoints on (read it with
    // `kubectl get secret`); without it the runtime keeps them off.
    const adminToken: Record<string, pulumi.Input<string>> = service.adminEndpoints
      ? { UAIP_ADMIN_TOKEN: new random.RandomPassword(`${name}-admin-token`, { length: 40, special: false }, child).result }
      : {};
    const credentials = pulumi.secret<Record<string, pulumi.Input<string>>>({
      UAIP_REDIS_AUTH_TOKEN: args.credentials.redisAuthToken,
      UAIP_DB_PASSWORD: args.credentials.databasePassword,
      ...adminToken,
    });
    const secret = new k8s.core.v1.Secret(`${name}-credentials`, secretManifest(names, service, credentials), child);

    const manifest = deploymentManifest({
      names,
      service,
      runtime,
      image: args.image,
      deregistrationDelaySeconds: args.deregistrationDelaySeconds ?? 30,
    });
    const deployment = args.rdsCa ? withRdsCaBundle(manifest) : manifest;
    const workload = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      deployment,
      after(configMap, secret, ...(args.rdsCa ? [args.rdsCa] : []), ...(args.dependsOn ?? [])),
    );

    // Pulumi awaits a Service until it has ready endpoints (10 min): start that clock once the pods are up.
    const svc = new k8s.core.v1.Service(`${name}-service`, serviceManifest(names, service), after(workload));
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, hpaManifest(names, service), after(workload));
    new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, pdbManifest(names, service), child);
    new k8s.apiextensions.CustomResource(
      `${name}-tgb`,
      targetGroupBindingManifest(names, service, args.targetGroupArn),
      after(svc, ...(args.crdRelease ? [args.crdRelease] : [])),
    );
    this.registerOutputs({ configMapData: this.configMapData });
  }
}
