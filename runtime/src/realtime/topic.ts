import { WebSocketTopicError } from "./errors";

/** Longest topic name, characters: topic names key in-memory maps (one per user, say), so they are bounded. */
export const MAX_TOPIC_LENGTH = 256;

/**
 * The one topic rule of the WebSocketManager (subscribe, unsubscribe, publish) and the MessageBatcher
 * (addMessage): a non-empty string of at most MAX_TOPIC_LENGTH characters, else WebSocketTopicError.
 */
export function checkTopic(topic: unknown): void {
  if (typeof topic !== "string" || topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) throw new WebSocketTopicError(topic);
}
