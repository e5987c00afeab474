-- Alerting (alerting/): alerts per venue incident (pending → confirmed → acknowledged →
-- resolved) with every transition and every signal behind them, the durable notification outbox
-- with its delivery log, silences, escalation steps, device actuation, one-time acknowledgement
-- tokens and the venues' false-alarm counts. The cases stage reads `alert` for its assessment.

CREATE SEQUENCE alert_number;

CREATE TABLE alert (
    alert_id          text PRIMARY KEY,
    venue_id          text NOT NULL REFERENCES venue (venue_id),
    kind              text NOT NULL CHECK (kind IN ('fire', 'trouble')),
    level             text NOT NULL CHECK (level IN ('red', 'orange', 'yellow', 'blue')),
    state             text NOT NULL
                          CHECK (state IN ('pending', 'confirmed', 'acknowledged', 'resolved')),
    policy            text NOT NULL,  -- how it is confirmed: persistence, corroboration, ...
    opened_at         timestamptz NOT NULL,
    confirmed_at      timestamptz,
    acked_at          timestamptz,
    acked_by          text,
    resolved_at       timestamptz,
    resolution        text,  -- the reason it was resolved (cleared, dismissed, expired, ...)
    contact_acked_at  timestamptz,  -- a venue contact answered the pending alert (investigating)
    contact_acked_by  text,
    summary           text NOT NULL,
    case_id           text,  -- the incident case the cases stage opened for it, once confirmed
    criteria          jsonb NOT NULL DEFAULT '{}',  -- criterion → engine time last seen
    signals           integer NOT NULL DEFAULT 0,
    last_signal_at    timestamptz NOT NULL,
    escalation_step   smallint NOT NULL DEFAULT 0,
    notify_round      integer NOT NULL DEFAULT 0,
    last_notified_at  timestamptz,
    notified_state    text,  -- the state last notified; NULL: nothing sent yet (muted, say)
    muted             text,  -- why notifications are held right now, NULL when they are not
    next_check_at     timestamptz,  -- when time alone may change it (verification, escalation)
    version           integer NOT NULL DEFAULT 1,
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL)),
    CHECK (state = 'pending' OR state = 'resolved' OR confirmed_at IS NOT NULL)
);
-- One open alert per venue and kind: evidence from concurrent workers updates it.
CREATE UNIQUE INDEX alert_open_idx ON alert (venue_id, kind) WHERE state <> 'resolved';
CREATE INDEX alert_check_idx ON alert (next_check_at) WHERE state <> 'resolved';
CREATE INDEX alert_opened_idx ON alert (opened_at);
CREATE INDEX alert_no_case_idx ON alert (confirmed_at)
    WHERE kind = 'fire' AND case_id IS NULL AND confirmed_at IS NOT NULL;

-- Every change of state, timed, with the reason the decision returned.
CREATE TABLE alert_transition (
    alert_id    text NOT NULL REFERENCES alert (alert_id),
    seq         integer NOT NULL,
    at          timestamptz NOT NULL,
    from_state  text,
    to_state    text NOT NULL,
    reason      text NOT NULL,
    actor       text NOT NULL,  -- engine, or who acknowledged / dismissed / confirmed
    PRIMARY KEY (alert_id, seq)
);

-- The devices of an alert and what they are doing (for verification and for the texts).
CREATE TABLE alert_device (
    alert_id     text NOT NULL REFERENCES alert (alert_id),
    device_id    text NOT NULL,
    level        text NOT NULL,  -- the highest level of its unmuted signals (of all, if muted)
    muted        text,           -- set while every signal of it was muted
    first_at     timestamptz NOT NULL,
    last_at      timestamptz NOT NULL,
    alarm_since  timestamptz,    -- its current alarm episode (NULL: hushed or cleared)
    alarming     boolean NOT NULL DEFAULT false,  -- its own alarm is on
    hushed_at    timestamptz,
    cleared_at   timestamptz,
    PRIMARY KEY (alert_id, device_id)
);
CREATE INDEX alert_device_device_idx ON alert_device (device_id);

-- Every signal (evidence, risk, device alarm or trouble) an alert was made of, muted or not.
CREATE TABLE alert_signal (
    signal_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id      text NOT NULL REFERENCES alert (alert_id),
    received_at   timestamptz NOT NULL,
    at            timestamptz NOT NULL,  -- device time
    source        text NOT NULL,
    name          text NOT NULL,  -- rule id, model, device event
    version       integer,
    level         text NOT NULL,
    criteria      text[] NOT NULL,
    device_ids    text[] NOT NULL,
    summary       text NOT NULL,
    readings      jsonb NOT NULL DEFAULT '[]',
    grouped       text NOT NULL,  -- the grouping decision: opened, new device, repeated, ...
    muted         text            -- the silence or inhibition that held it, NULL when none
);
CREATE INDEX alert_signal_alert_idx ON alert_signal (alert_id, signal_id);

-- The durable outbox: one row per notification (channel and recipient), idempotent by key.
CREATE TABLE notification (
    notification_id  text PRIMARY KEY,  -- the `id` the receiver sees, the same on every retry
    idem_key         text NOT NULL UNIQUE,
    alert_id         text NOT NULL REFERENCES alert (alert_id),
    channel          text NOT NULL CHECK (channel IN ('sms', 'push', 'webhook')),
    recipient        text NOT NULL,
    purpose          text NOT NULL,
    reason           text NOT NULL,  -- the routing reason
    level            text NOT NULL,
    body             text NOT NULL,  -- the exact JSON posted, byte for byte on every retry
    state            text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'delivered')),
    created_at       timestamptz NOT NULL,
    due_at           timestamptz NOT NULL,
    lease_until      timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    last_failure     text,
    delivered_at     timestamptz
);
CREATE INDEX notification_due_idx ON notification (due_at) WHERE state = 'queued';
CREATE INDEX notification_alert_idx ON notification (alert_id);
CREATE INDEX notification_recipient_idx ON notification (channel, recipient, delivered_at)
    WHERE state = 'delivered';

-- Every attempt: delivered, or the failure class (which is also the metric label).
CREATE TABLE delivery_log (
    notification_id  text NOT NULL REFERENCES notification (notification_id),
    attempt          integer NOT NULL,
    at               timestamptz NOT NULL,
    outcome          text NOT NULL,  -- delivered, server_error, timeout, rate_limited, ...
    status           integer,
    detail           text NOT NULL DEFAULT '',
    elapsed_ms       integer NOT NULL,
    PRIMARY KEY (notification_id, attempt)
);

-- Time-boxed silences (maintenance, fire drills): evidence is recorded, not notified.
CREATE TABLE silence (
    silence_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope         text NOT NULL CHECK (scope IN ('device', 'venue', 'community')),
    subject_id    text NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    created_by    text NOT NULL,
    reason        text NOT NULL,
    created_at    timestamptz NOT NULL,
    cancelled_at  timestamptz,
    cancelled_by  text,
    CHECK (ends_at > starts_at)
);
CREATE INDEX silence_subject_idx ON silence (scope, subject_id, ends_at);

-- Escalation steps reached, with their reason (no acknowledgement, actuation unanswered).
CREATE TABLE alert_escalation (
    alert_id  text NOT NULL REFERENCES alert (alert_id),
    step      smallint NOT NULL,
    at        timestamptz NOT NULL,
    target    text NOT NULL,
    reason    text NOT NULL,
    muted     text,
    PRIMARY KEY (alert_id, step)
);

-- Commands to devices (charging ports off) and their answers.
CREATE TABLE actuation (
    command_id     text PRIMARY KEY,
    alert_id       text NOT NULL REFERENCES alert (alert_id),
    device_id      text NOT NULL,
    port           integer NOT NULL,
    reason         text NOT NULL,
    requested_at   timestamptz NOT NULL,
    published_at   timestamptz,
    deadline_at    timestamptz NOT NULL,
    answered_at    timestamptz,
    answer_seq     integer,
    escalated_at   timestamptz,
    UNIQUE (alert_id, device_id, port)
);
CREATE INDEX actuation_open_idx ON actuation (deadline_at)
    WHERE answered_at IS NULL AND escalated_at IS NULL;
CREATE INDEX actuation_unpublished_idx ON actuation (requested_at)
    WHERE published_at IS NULL AND answered_at IS NULL AND escalated_at IS NULL;

-- Acknowledgement tokens already redeemed: each works once.
CREATE TABLE ack_token_used (
    token_hash  text PRIMARY KEY,  -- sha256 of the token; the token itself is never stored
    alert_id    text NOT NULL REFERENCES alert (alert_id),
    used_by     text NOT NULL,
    used_at     timestamptz NOT NULL,
    outcome     text NOT NULL
);

-- False and dismissed alarms per venue and local day; more than the limit flags the venue.
CREATE TABLE venue_false_alarm (
    venue_id      text NOT NULL REFERENCES venue (venue_id),
    day           date NOT NULL,
    false_alarms  integer NOT NULL DEFAULT 0,
    dismissed     integer NOT NULL DEFAULT 0,
    flagged_at    timestamptz,
    PRIMARY KEY (venue_id, day)
);
CREATE INDEX venue_false_alarm_flagged_idx ON venue_false_alarm (day) WHERE flagged_at IS NOT NULL;
