-- uaip:no-transaction
-- See 002: CONCURRENTLY, checked for validity by the runner.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_audit_logs_user ON audit_logs (user_id, created_at);
