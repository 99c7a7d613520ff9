import { parseConfig } from "../../../profile/parse";
import { ENVIRONMENTS } from "../../../profile/schema";
import { terminationTiming } from "../../../components/k8s/workload-spec";
import { DEFAULT_DRAIN_TIMEOUT_MS } from "@uaip/runtime";

/**
 * The WebSocket drain must end before Kubernetes' SIGKILL: the pod gets
 * terminationGracePeriodSeconds in total, of which the preStop sleep comes first.
 * HTTP in-flight requests finish after the drain, so leave them a margin too.
 */
const HTTP_MARGIN_MS = 5_000;

describe("WebSocket drain vs the stack's termination grace period", () => {
  it.each(ENVIRONMENTS)("%s: the default drain timeout plus an HTTP margin fits between SIGTERM and SIGKILL", (environment) => {
    const profile = parseConfig({ environment });
    const { preStopSeconds, terminationGracePeriodSeconds } = terminationTiming(profile.loadBalancer.deregistrationDelay);
    const afterSigterm = (terminationGracePeriodSeconds - preStopSeconds) * 1000;
    expect(DEFAULT_DRAIN_TIMEOUT_MS + HTTP_MARGIN_MS).toBeLessThanOrEqual(afterSigterm);
  });
});
