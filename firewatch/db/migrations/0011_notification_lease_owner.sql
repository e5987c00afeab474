-- Alerting (alerting/): who holds a notification's lease — the database session (backend pid)
-- of the deliverer that claimed it. A deliverer killed mid-post (kill -9, OOM, a crashed host)
-- leaves its leases behind; its session ends with it, so the restarted engine may send those
-- notifications at once instead of after the lease's minute has run out: a fire call in flight
-- at a crash is late by the restart, not by the lease. NULL: claimed before this column existed.
ALTER TABLE notification ADD COLUMN lease_pid integer;
