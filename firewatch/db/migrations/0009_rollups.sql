-- Rollups that keep the dashboards fast over months of readings (dashboards/), on plain
-- PostgreSQL: tables maintained incrementally by the engine (dashboards.rollups.refresh, a
-- periodic task), and views over them that the panels read. On TimescaleDB the same three
-- views are continuous aggregates instead (0009_rollups.timescale.sql).
--
-- What is new is found by `stored_at`, set by the database when a reading is stored (the start
-- of the storing transaction), not by device or receive time: a reading that arrives late, or
-- whose batch waits out a database outage, is still found. A refresh covers the readings
-- stored in [stored_until, high mark), where the high mark stays below the start of any
-- transaction still in progress, so nothing commits behind it (see dashboards/rollups.py).
-- Existing rows get the time of this migration, so the first refresh rolls up all of them.

ALTER TABLE reading ADD COLUMN stored_at timestamptz NOT NULL DEFAULT now();
-- BRIN: rows are appended in storing order, so a tiny index finds the newest pages of every
-- partition; it costs the hot path next to nothing (no btree insert per row).
CREATE INDEX reading_stored_at_idx ON reading USING brin (stored_at)
    WITH (pages_per_range = 32, autosummarize = on);

-- Where the last refresh stopped, and the zone that day buckets are cut in (set by the first
-- refresh from general.timezone; changing it later needs dashboards.rollups.reset).
CREATE TABLE rollup_watermark (
    name          text PRIMARY KEY,
    stored_until  timestamptz NOT NULL DEFAULT '-infinity',
    zone          text NOT NULL DEFAULT 'Asia/Shanghai',
    refreshed_at  timestamptz,
    rows_total    bigint NOT NULL DEFAULT 0
);
INSERT INTO rollup_watermark (name) VALUES ('reading');

-- STABLE, so that the planner evaluates them when it estimates: the views' scans of readings
-- stored since the watermark then use the BRIN index instead of reading every partition.
CREATE FUNCTION rollup_stored_until() RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT stored_until FROM rollup_watermark WHERE name = 'reading' $$;
CREATE FUNCTION rollup_zone() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT zone FROM rollup_watermark WHERE name = 'reading' $$;

-- Per device and hour of device time. Sums and counts, not averages, so that increments add up.
CREATE TABLE rollup_reading_hour (
    venue_id           text NOT NULL,
    device_id          text NOT NULL,
    bucket             timestamptz NOT NULL,
    kind               text NOT NULL,
    n                  bigint NOT NULL,
    alarm_n            bigint NOT NULL,
    smoke_obs_max      real,
    temp_c_sum         double precision,
    temp_c_n           bigint NOT NULL,
    temp_c_max         real,
    co_ppm_max         real,
    humidity_pct_sum   double precision,
    humidity_pct_n     bigint NOT NULL,
    current_a_max      real,
    power_w_sum        double precision,
    power_w_n          bigint NOT NULL,
    power_w_max        real,
    energy_wh_max      real,
    h2_ppm_max         real,
    voc_ppm_max        real,
    occupied_n         bigint NOT NULL,
    people_max         integer,
    still_minutes_max  integer,
    lag_ms_sum         double precision NOT NULL,
    lag_ms_max         double precision,
    last_ts            timestamptz NOT NULL,
    PRIMARY KEY (venue_id, device_id, bucket)
);

-- Per device and local day (the zone of rollup_watermark).
CREATE TABLE rollup_reading_day (
    day        timestamptz NOT NULL,
    venue_id   text NOT NULL,
    device_id  text NOT NULL,
    kind       text NOT NULL,
    n          bigint NOT NULL,
    alarm_n    bigint NOT NULL,
    last_ts    timestamptz NOT NULL,
    PRIMARY KEY (day, venue_id, device_id)
);

-- Per minute of device time and device kind: the control room's ingest rate and lag.
CREATE TABLE rollup_ingest_minute (
    bucket      timestamptz NOT NULL,
    kind        text NOT NULL,
    n           bigint NOT NULL,
    lag_ms_sum  double precision NOT NULL,
    lag_ms_max  double precision,
    PRIMARY KEY (bucket, kind)
);

-- What the panels read: the rolled-up rows plus the readings stored since the last refresh,
-- aggregated on the fly (like TimescaleDB's real-time aggregates). A bucket can therefore
-- appear twice (rolled up and fresh): queries aggregate over rows, never assume one a bucket.
CREATE VIEW reading_hourly AS
SELECT venue_id, device_id, bucket, kind, n, alarm_n, smoke_obs_max, temp_c_sum, temp_c_n,
       temp_c_max, co_ppm_max, humidity_pct_sum, humidity_pct_n, current_a_max, power_w_sum,
       power_w_n, power_w_max, energy_wh_max, h2_ppm_max, voc_ppm_max, occupied_n, people_max,
       still_minutes_max, lag_ms_sum, lag_ms_max, last_ts
FROM rollup_reading_hour
UNION ALL
SELECT r.venue_id, r.device_id, date_trunc('hour', r.ts), r.kind, count(*),
       count(*) FILTER (WHERE r.alarm), max(r.smoke_obs), sum(r.temp_c::float8), count(r.temp_c),
       max(r.temp_c), max(r.co_ppm), sum(r.humidity_pct::float8), count(r.humidity_pct),
       max(r.current_a), sum(r.power_w::float8), count(r.power_w), max(r.power_w), max(r.energy_wh),
       max(r.h2_ppm), max(r.voc_ppm), count(*) FILTER (WHERE r.occupied), max(r.people),
       max(r.still_minutes), sum(date_part('epoch', r.received_at - r.ts) * 1000),
       max(date_part('epoch', r.received_at - r.ts) * 1000), max(r.ts)
FROM reading r
WHERE r.stored_at >= rollup_stored_until()
GROUP BY r.venue_id, r.device_id, date_trunc('hour', r.ts), r.kind;

CREATE VIEW reading_daily AS
SELECT day, venue_id, device_id, kind, n, alarm_n, last_ts
FROM rollup_reading_day
UNION ALL
SELECT date_trunc('day', r.ts, rollup_zone()), r.venue_id, r.device_id, r.kind, count(*),
       count(*) FILTER (WHERE r.alarm), max(r.ts)
FROM reading r
WHERE r.stored_at >= rollup_stored_until()
GROUP BY date_trunc('day', r.ts, rollup_zone()), r.venue_id, r.device_id, r.kind;

CREATE VIEW ingest_minute AS
SELECT bucket, kind, n, lag_ms_sum, lag_ms_max
FROM rollup_ingest_minute
UNION ALL
SELECT date_trunc('minute', r.ts), r.kind, count(*),
       sum(date_part('epoch', r.received_at - r.ts) * 1000),
       max(date_part('epoch', r.received_at - r.ts) * 1000)
FROM reading r
WHERE r.stored_at >= rollup_stored_until()
GROUP BY date_trunc('minute', r.ts), r.kind;
