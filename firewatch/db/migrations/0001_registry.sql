-- Stations, venues and devices (CONTRACT.md section 2). Imported by `firewatch registry import`.

CREATE TABLE station (
    station_id  text PRIMARY KEY CHECK (station_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('micro', 'professional')),
    phones      text[] NOT NULL DEFAULT '{}',
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE venue (
    venue_id    text PRIMARY KEY CHECK (venue_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name        text NOT NULL,
    venue_type  text NOT NULL,
    category    smallint NOT NULL CHECK (category IN (1, 2, 3)),
    community   text NOT NULL,
    grid        text NOT NULL,
    address     text NOT NULL,
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    station_id  text NOT NULL REFERENCES station (station_id),
    contacts    text[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX venue_community_idx ON venue (community);
CREATE INDEX venue_station_idx ON venue (station_id);

CREATE TABLE device (
    device_id    text PRIMARY KEY CHECK (device_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    kind         text NOT NULL CHECK (kind IN ('smoke', 'charging', 'elevator', 'occupancy')),
    venue_id     text NOT NULL REFERENCES venue (venue_id),
    location     text NOT NULL DEFAULT '',
    heartbeat_s  integer NOT NULL CHECK (heartbeat_s > 0),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_venue_idx ON device (venue_id);
