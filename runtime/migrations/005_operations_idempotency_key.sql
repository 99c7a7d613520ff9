-- The Idempotency-Key a client sent with POST /operations, stored with the row it created. A retry
-- with the same key finds that row instead of inserting another (the reference service answers it
-- again), so a client may retry any failed or unanswered write: at most one row per key.
-- Nullable: writes without a key stay as they were. Adding a nullable column without a default only
-- touches the catalog (no table rewrite).
ALTER TABLE operations ADD COLUMN IF NOT EXISTS idempotency_key text;
