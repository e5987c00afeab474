-- API users with hashed bearer tokens, the append-only audit log of every write through the
-- API, device credentials for the broker, and retirement of registry records.

CREATE TABLE api_user (
    user_id      text PRIMARY KEY CHECK (user_id ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    role         text NOT NULL CHECK (role IN ('admin', 'operator', 'station', 'inspector', 'department', 'viewer')),
    communities  text[] NOT NULL DEFAULT '{}',  -- empty: every community
    station_id   text REFERENCES station (station_id),
    department   text,
    token_hash   text NOT NULL UNIQUE,  -- sha256 of the token: the token itself is never stored
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

CREATE TABLE audit_log (
    audit_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      text NOT NULL,
    role         text NOT NULL,
    method       text NOT NULL,
    path         text NOT NULL,
    status       integer NOT NULL,
    client       text NOT NULL,
    detail       jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Broker credentials (devices, the engine, the scan bridge), in Mosquitto's password-file
-- hash format; the plain password is handed out once and never stored.
CREATE TABLE broker_credential (
    username       text PRIMARY KEY,
    mosquitto_hash text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE station ADD COLUMN retired_at timestamptz;
ALTER TABLE venue ADD COLUMN retired_at timestamptz;
ALTER TABLE device ADD COLUMN retired_at timestamptz;
