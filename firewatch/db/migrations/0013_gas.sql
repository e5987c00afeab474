-- The contract's v1.1 `gas` kind: combustible-gas detectors in kitchens, some wired to an
-- emergency shut-off valve (CONTRACT.md section 1; declared in kernel/kinds.py).

ALTER TABLE device DROP CONSTRAINT IF EXISTS device_kind_check;
ALTER TABLE device ADD CONSTRAINT device_kind_check
    CHECK (kind IN ('smoke', 'charging', 'elevator', 'occupancy', 'gas'));

ALTER TABLE reading ADD COLUMN lel_pct real, ADD COLUMN valve text;
ALTER TABLE device_event ADD COLUMN lel_pct real;

-- A valve command names no port: the whole device is its target. The command id (derived
-- from alert, device and port) stays the key.
ALTER TABLE actuation ALTER COLUMN port DROP NOT NULL;
ALTER TABLE actuation ADD COLUMN kind text NOT NULL DEFAULT 'charging';

-- The hourly rollup keeps the highest concentration of the hour; the view gains it last.
ALTER TABLE rollup_reading_hour ADD COLUMN lel_pct_max real;
CREATE OR REPLACE VIEW reading_hourly AS
SELECT venue_id, device_id, bucket, kind, n, alarm_n, smoke_obs_max, temp_c_sum, temp_c_n,
       temp_c_max, co_ppm_max, humidity_pct_sum, humidity_pct_n, current_a_max, power_w_sum,
       power_w_n, power_w_max, energy_wh_max, h2_ppm_max, voc_ppm_max, occupied_n, people_max,
       still_minutes_max, lag_ms_sum, lag_ms_max, last_ts, lel_pct_max
FROM rollup_reading_hour
UNION ALL
SELECT r.venue_id, r.device_id, date_trunc('hour', r.ts), r.kind, count(*),
       count(*) FILTER (WHERE r.alarm), max(r.smoke_obs), sum(r.temp_c::float8), count(r.temp_c),
       max(r.temp_c), max(r.co_ppm), sum(r.humidity_pct::float8), count(r.humidity_pct),
       max(r.current_a), sum(r.power_w::float8), count(r.power_w), max(r.power_w), max(r.energy_wh),
       max(r.h2_ppm), max(r.voc_ppm), count(*) FILTER (WHERE r.occupied), max(r.people),
       max(r.still_minutes), sum(date_part('epoch', r.received_at - r.ts) * 1000),
       max(date_part('epoch', r.received_at - r.ts) * 1000), max(r.ts), max(r.lel_pct)
FROM reading r
WHERE r.stored_at >= rollup_stored_until()
GROUP BY r.venue_id, r.device_id, date_trunc('hour', r.ts), r.kind;
