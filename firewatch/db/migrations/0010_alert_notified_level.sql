-- Alerting (alerting/): the level those called about a confirmed fire were last told, so that a
-- rise (orange → red) is announced to them at once, once per level (purpose `upgraded`).

-- The level told by the last `confirmed` or `upgraded` notice; NULL: not told yet.
ALTER TABLE alert ADD COLUMN notified_level text
    CHECK (notified_level IN ('red', 'orange', 'yellow', 'blue'));

-- Open fire alerts the station was already called about: the highest level it was told, by a
-- call or a reminder (both name the level). One raised since, without a notice at its level,
-- is looked at again at once: the station learns it now rather than never (acknowledged) or
-- at the next reminder. Without any notice (no channel configured), nothing is announced.
WITH told AS (
    SELECT n.alert_id,
           max(array_position(ARRAY['blue', 'yellow', 'orange', 'red'], n.level)) AS rank
    FROM notification n
    WHERE n.purpose IN ('confirmed', 'reminder')
    GROUP BY n.alert_id
)
UPDATE alert a
SET notified_level = coalesce((ARRAY['blue', 'yellow', 'orange', 'red'])[told.rank], a.level)
FROM alert x LEFT JOIN told ON told.alert_id = x.alert_id
WHERE x.alert_id = a.alert_id AND a.kind = 'fire' AND a.state <> 'resolved'
  AND a.notified_state = 'confirmed';

UPDATE alert
SET next_check_at = least(next_check_at, last_signal_at)
WHERE kind = 'fire' AND state <> 'resolved' AND notified_level IS NOT NULL
  AND array_position(ARRAY['blue', 'yellow', 'orange', 'red'], level)
      > array_position(ARRAY['blue', 'yellow', 'orange', 'red'], notified_level);
