-- Rollups that keep the dashboards fast over months of readings (dashboards/), on TimescaleDB:
-- the same three relations as on plain PostgreSQL (0009_rollups.sql), with the same columns,
-- as continuous aggregates. Their policies refresh them; `materialized_only = false` adds the
-- readings not yet materialized at query time, so the panels see the latest minute, as the
-- plain variant's views do. dashboards.rollups.refresh has nothing to do on this backend.
--
-- Not run in CI (Debian ships no TimescaleDB); written for TimescaleDB 2.13 or newer (time
-- zones in time_bucket of a continuous aggregate need 2.8; FILTER clauses need 2.7).

CREATE MATERIALIZED VIEW reading_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT venue_id, device_id, time_bucket(INTERVAL '1 hour', ts) AS bucket, max(kind) AS kind,
       count(*) AS n, count(*) FILTER (WHERE alarm) AS alarm_n, max(smoke_obs) AS smoke_obs_max,
       sum(temp_c::float8) AS temp_c_sum, count(temp_c) AS temp_c_n, max(temp_c) AS temp_c_max,
       max(co_ppm) AS co_ppm_max, sum(humidity_pct::float8) AS humidity_pct_sum,
       count(humidity_pct) AS humidity_pct_n, max(current_a) AS current_a_max,
       sum(power_w::float8) AS power_w_sum, count(power_w) AS power_w_n,
       max(power_w) AS power_w_max, max(energy_wh) AS energy_wh_max, max(h2_ppm) AS h2_ppm_max,
       max(voc_ppm) AS voc_ppm_max, count(*) FILTER (WHERE occupied) AS occupied_n,
       max(people) AS people_max, max(still_minutes) AS still_minutes_max,
       sum(date_part('epoch', received_at - ts) * 1000) AS lag_ms_sum,
       max(date_part('epoch', received_at - ts) * 1000) AS lag_ms_max, max(ts) AS last_ts
FROM reading
GROUP BY venue_id, device_id, time_bucket(INTERVAL '1 hour', ts)
WITH NO DATA;
CREATE INDEX reading_hourly_venue_idx ON reading_hourly (venue_id, device_id, bucket);

-- Local days: the zone is the contract's default (general.timezone); another zone needs this
-- view recreated with it.
CREATE MATERIALIZED VIEW reading_daily
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 day', ts, 'Asia/Shanghai') AS day, venue_id, device_id,
       max(kind) AS kind, count(*) AS n, count(*) FILTER (WHERE alarm) AS alarm_n,
       max(ts) AS last_ts
FROM reading
GROUP BY time_bucket(INTERVAL '1 day', ts, 'Asia/Shanghai'), venue_id, device_id
WITH NO DATA;

CREATE MATERIALIZED VIEW ingest_minute
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 minute', ts) AS bucket, kind, count(*) AS n,
       sum(date_part('epoch', received_at - ts) * 1000) AS lag_ms_sum,
       max(date_part('epoch', received_at - ts) * 1000) AS lag_ms_max
FROM reading
GROUP BY time_bucket(INTERVAL '1 minute', ts), kind
WITH NO DATA;

-- Ingest refuses readings older than a week (ingest.max_age_s): the policies look back 8 days.
SELECT add_continuous_aggregate_policy('reading_hourly', start_offset => INTERVAL '8 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');
SELECT add_continuous_aggregate_policy('reading_daily', start_offset => INTERVAL '9 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
SELECT add_continuous_aggregate_policy('ingest_minute', start_offset => INTERVAL '8 days',
    end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');
SELECT add_retention_policy('ingest_minute', drop_after => INTERVAL '35 days');
