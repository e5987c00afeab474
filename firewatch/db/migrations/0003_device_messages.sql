-- Device events, status heartbeats, availability, liveness, venue scans, rejected messages.

CREATE TABLE device_event (
    ts           timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    device_id    text NOT NULL,
    kind         text NOT NULL,
    venue_id     text NOT NULL,
    seq          bigint NOT NULL,
    event        text NOT NULL,
    port         integer,
    car          text,
    floor        integer,
    confidence   real,
    blocked      boolean,
    command_id   text,
    extra        jsonb,
    UNIQUE (device_id, ts, seq)
);
CREATE INDEX device_event_venue_ts_idx ON device_event (venue_id, ts);
CREATE INDEX device_event_ts_idx ON device_event (ts);

CREATE TABLE device_status (
    ts           timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    device_id    text NOT NULL,
    kind         text NOT NULL,
    venue_id     text NOT NULL,
    seq          bigint NOT NULL,
    battery_pct  real,
    rssi_dbm     real,
    fw           text,
    extra        jsonb,
    UNIQUE (device_id, ts, seq)
);
CREATE INDEX device_status_ts_idx ON device_status (ts);

CREATE TABLE device_availability (
    received_at  timestamptz NOT NULL,
    device_id    text NOT NULL,
    online       boolean NOT NULL
);
CREATE INDEX device_availability_device_idx ON device_availability (device_id, received_at);

-- One row a device: what the control room asks first ("is it alive?"), kept current by ingest.
CREATE TABLE device_liveness (
    device_id        text PRIMARY KEY REFERENCES device (device_id) ON DELETE CASCADE,
    last_seen_at     timestamptz,
    last_device_ts   timestamptz,
    online           boolean NOT NULL DEFAULT true,
    offline_since    timestamptz,
    offline_reason   text,
    battery_pct      real,
    rssi_dbm         real,
    fw               text,
    status_at        timestamptz
);

CREATE TABLE venue_scan (
    scan_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts           timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    venue_id     text NOT NULL,
    seq          bigint NOT NULL,
    scan_type    text NOT NULL CHECK (scan_type IN ('inspection', 'self_check', 'rectification')),
    inspector    text NOT NULL,
    items        jsonb NOT NULL,
    case_id      text,
    extra        jsonb,
    UNIQUE (venue_id, ts, seq)
);
CREATE INDEX venue_scan_venue_ts_idx ON venue_scan (venue_id, ts);

-- Nothing rejected is silent: the raw bytes, a stable reason code and a readable detail.
CREATE TABLE rejected_message (
    rejected_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at  timestamptz NOT NULL,
    topic        text NOT NULL,
    payload      bytea NOT NULL,
    reason       text NOT NULL,
    detail       text NOT NULL
);
CREATE INDEX rejected_message_received_idx ON rejected_message (received_at);
CREATE INDEX rejected_message_reason_idx ON rejected_message (reason, received_at);
