-- The durable hand-off from the store to the stages (ingest/positions.py, firewatch/evaluation.py).
-- Each committed ingest batch gets a position from one sequence, written in the same transaction
-- as its rows: `ingest_batch` lists the positions, and every stored row carries its batch's
-- position in `pos` (NULL for rows not written by ingest). Each stage records the last
-- position it has fully processed (`stage_watermark`); on start-up it replays what lies beyond.
CREATE SEQUENCE ingest_position;

CREATE TABLE ingest_batch (
    pos           bigint PRIMARY KEY,
    partition     text NOT NULL,          -- the engine partition that stored it (p1of1, p2of4)
    committed_at  timestamptz NOT NULL,
    records       integer NOT NULL,       -- rows stored under this position (0: offline only)
    offline       jsonb                   -- devices the liveness sweep found silent, if any
);
CREATE INDEX ingest_batch_partition_idx ON ingest_batch (partition, pos);
CREATE INDEX ingest_batch_committed_idx ON ingest_batch (committed_at);

ALTER TABLE reading ADD COLUMN pos bigint;
ALTER TABLE device_event ADD COLUMN pos bigint;
ALTER TABLE device_status ADD COLUMN pos bigint;
ALTER TABLE venue_scan ADD COLUMN pos bigint;
ALTER TABLE device_availability ADD COLUMN pos bigint;
-- Positions grow with the insertion order, so a block-range index is small and costs the
-- hot path next to nothing.
CREATE INDEX reading_pos_idx ON reading USING brin (pos);
CREATE INDEX device_event_pos_idx ON device_event USING brin (pos);
CREATE INDEX device_status_pos_idx ON device_status USING brin (pos);
CREATE INDEX venue_scan_pos_idx ON venue_scan USING brin (pos);
CREATE INDEX device_availability_pos_idx ON device_availability USING brin (pos);

-- The last position each stage has fully processed, per partition. `rules` covers rules and
-- risk (evidence and scores), `cases` and `alerting` their own outputs; each is written in the
-- same transaction as those outputs.
CREATE TABLE stage_watermark (
    stage       text NOT NULL,
    partition   text NOT NULL,
    pos         bigint NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (stage, partition)
);

-- A batch (or one input of it) a stage kept failing on, kept with the error; the stage moved on.
CREATE TABLE quarantined_batch (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stage           text NOT NULL,
    partition       text NOT NULL,
    pos             bigint NOT NULL,
    attempts        integer NOT NULL,
    error           text NOT NULL,
    item            text,                 -- the input that failed, when not the whole batch
    quarantined_at  timestamptz NOT NULL
);
CREATE INDEX quarantined_batch_at_idx ON quarantined_batch (quarantined_at);

-- Notices to the control room about the engine itself (degraded stage, evaluation lag) are
-- queued in the same outbox as alert notifications, with no alert.
ALTER TABLE notification ALTER COLUMN alert_id DROP NOT NULL;
