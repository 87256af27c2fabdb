-- description: Everything one actor did in CloudTrail: per event name, bucket and outcome (ok, or the error code), the events and first and last seen; changes (not read-only) first. An assumed role given by its role (arn:aws:sts::ACCOUNT:assumed-role/ROLE) matches all its sessions.
-- sources: cloudtrail
-- param actor: varchar -- principal ARN, assumed role, or source IP to follow
SELECT
    event_name,
    coalesce(bucket_name, '-') AS bucket,
    NOT coalesce(read_only, false) AS is_change,
    coalesce(nullif(error_code, ''), 'ok') AS outcome,
    count(*) AS events,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM cloudtrail
WHERE event_time >= :start AND event_time < :end
  AND (user_identity_arn = :actor OR source_ip_address = :actor OR starts_with(user_identity_arn, concat(:actor, '/')))
GROUP BY event_name, coalesce(bucket_name, '-'), NOT coalesce(read_only, false), coalesce(nullif(error_code, ''), 'ok')
ORDER BY is_change DESC, first_seen, event_name, bucket, outcome
