-- Hazard cases (cases/): the closed loop 发现 → 上报 → 立案 → 派遣 → 处置 → 核查 → 结案, its
-- append-only history, joint handling parts, listed supervision (挂牌督办), reminders, and the
-- bookkeeping that makes scan and alert intake idempotent. Inspection coverage is read from
-- `venue` and `venue_scan`; nothing here duplicates them.

CREATE SEQUENCE hazard_case_number;

CREATE TABLE hazard_case (
    case_id        text PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('hazard', 'incident')),
    venue_id       text NOT NULL REFERENCES venue (venue_id),
    community      text NOT NULL,  -- 居委 and grid as they were when the case was opened
    grid           text NOT NULL,
    station_id     text NOT NULL,
    hazard         text NOT NULL,
    source         text NOT NULL CHECK (source IN ('scan', 'evidence', 'alert', 'manual')),
    summary        text NOT NULL DEFAULT '',
    stage          text NOT NULL CHECK (stage IN ('discovered', 'reported', 'registered',
                       'dispatched', 'handling', 'verifying', 'closed', 'cancelled')),
    opened_at      timestamptz NOT NULL,
    due_at         timestamptz NOT NULL,
    closed_at      timestamptz,  -- when it was closed or cancelled
    supervision    text NOT NULL DEFAULT 'none'
                       CHECK (supervision IN ('none', 'street_proposed', 'street', 'district')),
    recurrence_of  text REFERENCES hazard_case (case_id),
    found_count    integer NOT NULL DEFAULT 1 CHECK (found_count >= 1),
    last_found_at  timestamptz NOT NULL,
    version        integer NOT NULL CHECK (version >= 1),  -- = the number of history entries
    CHECK ((stage IN ('closed', 'cancelled')) = (closed_at IS NOT NULL))
);
-- One open case per venue and hazard: finding it again updates that case.
CREATE UNIQUE INDEX hazard_case_open_idx ON hazard_case (venue_id, hazard)
    WHERE stage NOT IN ('closed', 'cancelled');
CREATE INDEX hazard_case_stage_idx ON hazard_case (stage, due_at);
CREATE INDEX hazard_case_community_idx ON hazard_case (community, opened_at);
CREATE INDEX hazard_case_closed_idx ON hazard_case (venue_id, hazard, closed_at);

-- Every change of a case, in order; seq equals the case's version after the change.
CREATE TABLE case_history (
    case_id      text NOT NULL REFERENCES hazard_case (case_id),
    seq          integer NOT NULL CHECK (seq >= 1),
    at           timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL,
    actor        text NOT NULL,
    role         text NOT NULL,
    from_stage   text,
    to_stage     text NOT NULL,
    reason       text NOT NULL,
    note         text NOT NULL DEFAULT '',
    attachments  text[] NOT NULL DEFAULT '{}',
    data         jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (case_id, seq)
);

CREATE FUNCTION case_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_history is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER case_history_no_update BEFORE UPDATE OR DELETE ON case_history
    FOR EACH ROW EXECUTE FUNCTION case_history_append_only();
CREATE TRIGGER case_history_no_truncate BEFORE TRUNCATE ON case_history
    FOR EACH STATEMENT EXECUTE FUNCTION case_history_append_only();

-- Joint handling (联合处置): one part per department a case is dispatched to.
CREATE TABLE case_part (
    case_id      text NOT NULL REFERENCES hazard_case (case_id),
    department   text NOT NULL,
    state        text NOT NULL CHECK (state IN ('assigned', 'accepted', 'done', 'declined')),
    assigned_at  timestamptz NOT NULL,
    accepted_at  timestamptz,
    done_at      timestamptz,
    note         text NOT NULL DEFAULT '',
    PRIMARY KEY (case_id, department)
);
CREATE INDEX case_part_department_idx ON case_part (department, assigned_at);

-- Listed supervision (挂牌督办): proposals and decisions, street and district level.
CREATE TABLE case_listing (
    listing_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      text NOT NULL REFERENCES hazard_case (case_id),
    level        text NOT NULL CHECK (level IN ('street', 'district')),
    state        text NOT NULL CHECK (state IN ('proposed', 'listed', 'rejected', 'lifted')),
    reason       text NOT NULL,
    proposed_at  timestamptz NOT NULL,
    decided_at   timestamptz,
    decided_by   text,
    approver_role text,
    lifted_at    timestamptz,
    note         text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX case_listing_live_idx ON case_listing (case_id, level)
    WHERE state IN ('proposed', 'listed');

-- What the supervision list shows: every case proposed or listed, with its venue.
CREATE VIEW case_supervision_list AS
SELECT l.listing_id, l.case_id, l.level, l.state, l.reason, l.proposed_at, l.decided_at,
       l.decided_by, c.venue_id, v.name AS venue_name, c.community, c.grid, c.hazard, c.stage,
       c.opened_at, c.due_at, c.supervision
FROM case_listing l
JOIN hazard_case c USING (case_id)
JOIN venue v ON v.venue_id = c.venue_id
WHERE l.state IN ('proposed', 'listed');

-- Reminders to whoever holds a case (or to grid staff for venues overdue for inspection); the
-- key makes a sweep idempotent; delivery sets delivered_at.
CREATE TABLE case_reminder (
    reminder_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           text NOT NULL UNIQUE,
    case_id       text REFERENCES hazard_case (case_id),
    venue_id      text,
    to_kind       text NOT NULL CHECK (to_kind IN ('role', 'department', 'grid', 'station')),
    to_ref        text NOT NULL,
    reason        text NOT NULL,
    text          text NOT NULL,
    created_at    timestamptz NOT NULL,
    delivered_at  timestamptz
);
CREATE INDEX case_reminder_pending_idx ON case_reminder (created_at) WHERE delivered_at IS NULL;

-- Intake bookkeeping: which source record opened or updated which case (alerts, evidence),
-- and which venue scans have been applied (the key of venue_scan), so replays change nothing.
CREATE TABLE case_source (
    source      text NOT NULL,
    source_ref  text NOT NULL,
    case_id     text NOT NULL REFERENCES hazard_case (case_id),
    at          timestamptz NOT NULL,
    PRIMARY KEY (source, source_ref)
);

CREATE TABLE case_scan_applied (
    venue_id    text NOT NULL,
    ts          timestamptz NOT NULL,
    seq         bigint NOT NULL,
    outcome     text NOT NULL,
    case_ids    text[] NOT NULL DEFAULT '{}',
    applied_at  timestamptz NOT NULL,
    PRIMARY KEY (venue_id, ts, seq)
);
