-- uaip:no-transaction
-- The uniqueness that makes a retried write safe: INSERT ... ON CONFLICT (idempotency_key) finds the
-- first row instead of adding a second, even when the two requests race. Partial: rows without a key
-- are not indexed. CONCURRENTLY so building it never blocks writes (see 002 for why no transaction).
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_operations_idempotency_key ON operations (idempotency_key)
WHERE idempotency_key IS NOT NULL;
