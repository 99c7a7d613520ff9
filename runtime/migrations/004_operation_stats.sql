-- The seed's materialized view for the heavy analytics query.
-- The unique index on plain columns is what REFRESH MATERIALIZED VIEW CONCURRENTLY requires;
-- WITH DATA (the default) populates it, the other requirement of a concurrent refresh.
CREATE MATERIALIZED VIEW IF NOT EXISTS operation_stats AS
SELECT
  date_trunc('hour', created_at) AS hour,
  status,
  COUNT(*) AS count,
  AVG(duration) AS avg_duration
FROM operations
GROUP BY 1, 2
WITH DATA;

CREATE UNIQUE INDEX IF NOT EXISTS operation_stats_hour_status ON operation_stats (hour, status);

-- The services refresh it (StatsRefresher) as members of uaip_app, which must own it. The migrator
-- joins uaip_app first: changing an owner needs membership in the new owner role.
GRANT uaip_app TO CURRENT_USER;
ALTER MATERIALIZED VIEW operation_stats OWNER TO uaip_app;

INSERT INTO uaip_matview_refresh (view_name, refreshed_at) VALUES ('operation_stats', now())
ON CONFLICT (view_name) DO NOTHING;
