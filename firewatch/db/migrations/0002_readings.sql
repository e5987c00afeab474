-- Readings on plain PostgreSQL: native range partitioning by device time, one partition a day.
-- Partitions are created ahead of time by firewatch.db.partitions (at migrate and by the
-- engine's maintenance task); the default partition only catches what falls outside them, so
-- that a missing partition never loses a reading, and maintenance moves such rows out again.

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
) PARTITION BY RANGE (ts);

-- Redeliveries (same device, seq and ts) are stored once; the key includes ts, the partition key.
CREATE UNIQUE INDEX reading_dedup_idx ON reading (device_id, ts, seq);
CREATE INDEX reading_venue_ts_idx ON reading (venue_id, ts);

CREATE TABLE reading_default PARTITION OF reading DEFAULT;
