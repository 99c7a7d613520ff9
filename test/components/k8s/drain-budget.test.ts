import { parseConfig } from "../../../profile/parse";
import { ENVIRONMENTS } from "../../../profile/schema";
import { HTTP_DRAIN_MARGIN_SECONDS, terminationTiming } from "../../../components/k8s/workload-spec";
import { DEFAULT_DRAIN_TIMEOUT_MS } from "@uaip/runtime/realtime";

/**
 * The WebSocket drain must end before Kubernetes' SIGKILL: the pod gets
 * terminationGracePeriodSeconds in total, of which the preStop sleep comes first.
 * HTTP in-flight requests finish after the drain, so they get a margin too, and the ALB's
 * deregistration delay (requests it may still send) must fit as well.
 */
function afterSigtermMs(deregistrationDelay: number): number {
  const { preStopSeconds, terminationGracePeriodSeconds } = terminationTiming(deregistrationDelay);
  return (terminationGracePeriodSeconds - preStopSeconds) * 1000;
}

describe("WebSocket drain vs the stack's termination grace period", () => {
  it.each(ENVIRONMENTS)("%s: the default drain timeout plus an HTTP margin fits between SIGTERM and SIGKILL", (environment) => {
    const profile = parseConfig({ environment });
    expect(DEFAULT_DRAIN_TIMEOUT_MS + HTTP_DRAIN_MARGIN_SECONDS * 1000).toBeLessThanOrEqual(
      afterSigtermMs(profile.loadBalancer.deregistrationDelay),
    );
  });

  // A stack may lower the delay to 0 (the schema allows 0..3600); the grace period once followed it down to 5 s.
  it.each([0, 1, 5, 9, 10, 11, 30, 300, 3600])(
    "loadBalancer.deregistrationDelay %i s: the drain and the delay both fit, with the margin",
    (deregistrationDelay) => {
      const p = parseConfig({ environment: "dev", loadBalancer: { deregistrationDelay } });
      const budget = afterSigtermMs(p.loadBalancer.deregistrationDelay);
      expect(DEFAULT_DRAIN_TIMEOUT_MS + HTTP_DRAIN_MARGIN_SECONDS * 1000).toBeLessThanOrEqual(budget);
      expect((deregistrationDelay + HTTP_DRAIN_MARGIN_SECONDS) * 1000).toBeLessThanOrEqual(budget);
    },
  );
});
