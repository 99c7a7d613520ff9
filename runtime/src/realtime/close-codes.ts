/**
 * Close codes the WebSocketManager sends (RFC 6455 §7.4.1 and the IANA registry). Clients branch
 * on them: every one of these means "reconnect later", unlike the 4xxx application codes
 * (authentication/authorisation refusals), on which ReconnectingClient stops.
 */
export const CLOSE_CODE = {
  /** Server shutting down (drain): reconnect, the load balancer sends you to another pod. */
  goingAway: 1001,
  /** Policy violation: the client read too slowly and its send buffer passed `maxBufferedBytes`. */
  slowConsumer: 1008,
  /** Try again later: `maxConnections` reached (the seed's code). */
  tryAgainLater: 1013,
} as const;

/** The close reasons the server sends with its close codes. */
export const CLOSE_REASON = {
  goingAway: "Server shutting down",
  slowConsumer: "Send buffer limit exceeded",
  tryAgainLater: "Maximum connections reached",
} as const;

/** True for the 4000-4999 range: application refusals (auth), where retrying cannot help. */
export function isApplicationRefusal(code: number): boolean {
  return code >= 4000 && code <= 4999;
}
