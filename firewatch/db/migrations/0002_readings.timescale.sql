-- Readings on TimescaleDB: a hypertable in one-day chunks, compressed after a week, retained
-- for the configured period (the retention job is set by firewatch.db.partitions).

CREATE TABLE reading (
    ts             timestamptz NOT NULL,
    received_at    timestamptz NOT NULL,
    device_id      text NOT NULL,
    kind           text NOT NULL,
    venue_id       text NOT NULL,
    seq            bigint NOT NULL,
    smoke_obs      real,
    temp_c         real,
    co_ppm         real,
    humidity_pct   real,
    alarm          boolean,
    port           integer,
    state          text,
    current_a      real,
    voltage_v      real,
    power_w        real,
    energy_wh      real,
    h2_ppm         real,
    voc_ppm        real,
    occupied       boolean,
    people         integer,
    still_minutes  integer,
    extra          jsonb
);

SELECT create_hypertable('reading', 'ts', chunk_time_interval => INTERVAL '1 day');

CREATE UNIQUE INDEX reading_dedup_idx ON reading (device_id, ts, seq);
CREATE INDEX reading_venue_ts_idx ON reading (venue_id, ts);

ALTER TABLE reading SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'ts'
);
SELECT add_compression_policy('reading', INTERVAL '7 days');
