-- uaip:no-transaction
-- CONCURRENTLY: building the index never blocks writes to operations. It cannot run in a
-- transaction; if it fails halfway PostgreSQL leaves an INVALID index that IF NOT EXISTS would
-- then skip silently, so the runner drops invalid indexes named here before it runs the file and
-- checks pg_index.indisvalid after.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_operations_status ON operations (status, created_at);
