import type { types } from "@pulumi/kubernetes";
import type { Input } from "@pulumi/pulumi";
import { PART_OF, selectorLabels } from "./workload-spec";

/**
 * NetworkPolicies of the UAIP namespace: deny everything, then allow per service exactly what it
 * needs. Enforced on EKS by the VPC CNI's network policy agent, which is off unless the vpc-cni
 * add-on sets `enableNetworkPolicy` (see vpc-cni.ts; the plan check network-policies verifies it).
 */

/** CoreDNS pods (EKS keeps the kube-dns label). */
export const DNS_PEER = { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } } as const;
/** Prometheus pods of kube-prometheus-stack (the operator labels them so). */
export const PROMETHEUS_POD_LABELS = { "app.kubernetes.io/name": "prometheus" } as const;

export interface ServiceNetworkPolicyInput {
  namespace: string;
  service: { name: string; port: number };
  /**
   * Where the ALB connects from: with target type ip it opens connections straight to the pod IPs
   * from its ENIs in the public subnets (traffic and health checks), so those subnets' CIDRs.
   */
  albSourceCidrs: string[];
  /** ElastiCache and RDS live in the private subnets. */
  redis: { cidrs: string[]; port: Input<number> };
  database: { cidrs: string[]; port: Input<number> };
  /** Namespace of the Prometheus that scrapes the service. */
  monitoringNamespace: string;
  /**
   * HTTPS (443) to AWS APIs: STS for the IRSA token exchange and CloudFront for CDN purges. Their
   * addresses are not fixed, so this opens 443 to any address; only for services that purge.
   */
  awsApis: boolean;
}

const namespaceSelector = (name: string) => ({ matchLabels: { "kubernetes.io/metadata.name": name } });
const metadata = (name: string, namespace: string) => ({ name, namespace, labels: { "app.kubernetes.io/part-of": PART_OF } });

/** Selects every pod of the namespace and allows nothing: what isn't allowed below is denied. */
export function defaultDenyPolicy(namespace: string): types.input.networking.v1.NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: metadata("default-deny", namespace),
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
  };
}

/** Pods of the migration Job (db-migration.ts labels them so). */
export const MIGRATION_POD_LABELS = {
  "app.kubernetes.io/part-of": PART_OF,
  "app.kubernetes.io/component": "db-migration",
} as const;

const dnsEgress = (): types.input.networking.v1.NetworkPolicyEgressRule => ({
  to: [{ namespaceSelector: namespaceSelector(DNS_PEER.namespace), podSelector: { matchLabels: { ...DNS_PEER.podLabels } } }],
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
});

/** The migration Job only talks to PostgreSQL (and DNS to find it); nothing connects to it. */
export function migrationNetworkPolicy(input: {
  namespace: string;
  database: { cidrs: string[]; port: Input<number> };
}): types.input.networking.v1.NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: metadata("uaip-db-migration", input.namespace),
    spec: {
      podSelector: { matchLabels: { ...MIGRATION_POD_LABELS } },
      policyTypes: ["Ingress", "Egress"],
      egress: [
        dnsEgress(),
        {
          to: input.database.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
          ports: [{ protocol: "TCP", port: input.database.port }],
        },
      ],
    },
  };
}

export function serviceNetworkPolicy(input: ServiceNetworkPolicyInput): types.input.networking.v1.NetworkPolicy {
  const { service } = input;
  const http = [{ protocol: "TCP", port: service.port }];
  const egress: types.input.networking.v1.NetworkPolicyEgressRule[] = [
    dnsEgress(),
    { to: input.redis.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: input.redis.port }] },
    { to: input.database.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: input.database.port }] },
  ];
  if (input.awsApis) egress.push({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] });
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: metadata(service.name, input.namespace),
    spec: {
      podSelector: { matchLabels: selectorLabels(service.name) },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: input.albSourceCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: http },
        {
          from: [
            {
              namespaceSelector: namespaceSelector(input.monitoringNamespace),
              podSelector: { matchLabels: { ...PROMETHEUS_POD_LABELS } },
            },
          ],
          ports: http,
        },
      ],
      egress,
    },
  };
}
