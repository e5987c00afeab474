-- The contract's v1.1 `gas` kind on TimescaleDB (see 0013_gas.sql). A continuous aggregate
-- cannot gain a column: reading_hourly is recreated with lel_pct_max, and refreshed by its
-- policy from the readings (still stored: the aggregate is derived data).
--
-- Not run in CI (Debian ships no TimescaleDB).

ALTER TABLE device DROP CONSTRAINT IF EXISTS device_kind_check;
ALTER TABLE device ADD CONSTRAINT device_kind_check
    CHECK (kind IN ('smoke', 'charging', 'elevator', 'occupancy', 'gas'));

ALTER TABLE reading ADD COLUMN lel_pct real, ADD COLUMN valve text;
ALTER TABLE device_event ADD COLUMN lel_pct real;

ALTER TABLE actuation ALTER COLUMN port DROP NOT NULL;
ALTER TABLE actuation ADD COLUMN kind text NOT NULL DEFAULT 'charging';

DROP MATERIALIZED VIEW reading_hourly;
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
       max(date_part('epoch', received_at - ts) * 1000) AS lag_ms_max, max(ts) AS last_ts,
       max(lel_pct) AS lel_pct_max
FROM reading
GROUP BY venue_id, device_id, time_bucket(INTERVAL '1 hour', ts)
WITH DATA;
CREATE INDEX reading_hourly_venue_idx ON reading_hourly (venue_id, device_id, bucket);
SELECT add_continuous_aggregate_policy('reading_hourly', start_offset => INTERVAL '8 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes');
