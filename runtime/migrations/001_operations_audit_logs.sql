-- The seed's tables, the group role the services' roles join, and the refresh bookkeeping.
-- Runs in one transaction (the runner's default).

CREATE TABLE IF NOT EXISTS operations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  status text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  duration double precision,
  payload jsonb
);

CREATE TABLE IF NOT EXISTS audit_logs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id text NOT NULL,
  action text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  details jsonb
);

-- When a materialized view was last refreshed, by whichever replica did it (uaip_db_stats_refresh_age_seconds).
CREATE TABLE IF NOT EXISTS uaip_matview_refresh (
  view_name text PRIMARY KEY,
  refreshed_at timestamptz NOT NULL
);

-- Every service role is a member of uaip_app: it holds the table privileges and owns operation_stats
-- (REFRESH MATERIALIZED VIEW needs ownership), so no service needs the master password.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'uaip_app') THEN
    CREATE ROLE uaip_app NOLOGIN;
  END IF;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON operations, audit_logs TO uaip_app;
GRANT SELECT, INSERT, UPDATE ON uaip_matview_refresh TO uaip_app;
GRANT USAGE ON SCHEMA public TO uaip_app;
