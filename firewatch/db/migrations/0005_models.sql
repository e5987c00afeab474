-- models/: versioned model artifacts, and fire-risk scores over time (device, venue, community).

-- One row per artifact version. The document is gzip'd JSON of the fitted parameters (never a
-- pickle); sha256 is checked before it is read. The engine loads the newest version of each name.
CREATE TABLE model_artifact (
    name            text NOT NULL CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    version         integer NOT NULL CHECK (version > 0),
    kind            text NOT NULL CHECK (kind IN ('classifier', 'anomaly')),
    device_kind     text NOT NULL CHECK (device_kind IN ('smoke', 'charging', 'elevator', 'occupancy')),
    algorithm       text NOT NULL,
    format_version  integer NOT NULL,
    created_at      timestamptz NOT NULL,
    trained_from    timestamptz,
    trained_to      timestamptz,
    training_data   text NOT NULL,
    metrics         jsonb NOT NULL DEFAULT '{}',
    document        bytea NOT NULL,
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (name, version)
);

-- Scores are written when a subject's level changes, its score moves by 5 points or more, or
-- at least every 15 minutes while it reports: enough for "risk over time" per venue and
-- community without a row per reading. Reasons name rules, models and versions, and readings.
CREATE TABLE risk_score (
    at          timestamptz NOT NULL,
    scope       text NOT NULL CHECK (scope IN ('device', 'venue', 'community')),
    subject_id  text NOT NULL,
    venue_id    text,
    community   text NOT NULL,
    score       smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    level       text NOT NULL CHECK (level IN ('red', 'orange', 'yellow', 'blue')),
    basis       text NOT NULL,
    reasons     jsonb NOT NULL
);
CREATE INDEX risk_score_subject_idx ON risk_score (scope, subject_id, at);
CREATE INDEX risk_score_venue_idx ON risk_score (venue_id, at) WHERE scope = 'venue';
CREATE INDEX risk_score_community_idx ON risk_score (community, at) WHERE scope = 'community';
CREATE INDEX risk_score_at_idx ON risk_score (at);
