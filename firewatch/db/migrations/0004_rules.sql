-- Evidence (rules/): every finding of a rule, with the readings behind it, for alerting,
-- dashboards and the comparison of back-tests with what the live engine found.

CREATE TABLE evidence (
    evidence_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL,  -- device time of the reading that completed the finding
    recorded_at   timestamptz NOT NULL,  -- when the engine stored it
    rule_id       text NOT NULL,
    rule_version  integer NOT NULL CHECK (rule_version >= 1),
    category      text NOT NULL CHECK (category IN ('fire', 'hazard', 'trouble')),
    level         text NOT NULL CHECK (level IN ('red', 'orange', 'yellow', 'blue')),
    scope         text NOT NULL CHECK (scope IN ('device', 'venue', 'building', 'community')),
    subject_id    text NOT NULL,
    venue_id      text NOT NULL,
    device_ids    text[] NOT NULL DEFAULT '{}',
    hazard        text,
    summary       text NOT NULL,
    readings      jsonb NOT NULL DEFAULT '[]'  -- [{device_id, ts, seq, field, value, table}]
);
-- The same finding stored twice (a retried write) is stored once.
CREATE UNIQUE INDEX evidence_once_idx
    ON evidence (rule_id, rule_version, subject_id, at, COALESCE(hazard, ''));
CREATE INDEX evidence_at_idx ON evidence (at);
CREATE INDEX evidence_venue_at_idx ON evidence (venue_id, at);
CREATE INDEX evidence_rule_at_idx ON evidence (rule_id, at);
