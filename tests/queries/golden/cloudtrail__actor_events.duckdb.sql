SELECT
  event_name,
  COALESCE(bucket_name, '-') AS bucket,
  NOT COALESCE(read_only, FALSE) AS is_change,
  COALESCE(NULLIF(error_code, ''), 'ok') AS outcome,
  COUNT(*) AS events,
  MIN(event_time) AS first_seen,
  MAX(event_time) AS last_seen
FROM cloudtrail AS cloudtrail
WHERE
  event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND (
    user_identity_arn = '203.0.113.50'
    OR source_ip_address = '203.0.113.50'
    OR STARTS_WITH(user_identity_arn, '203.0.113.50' || '/')
  )
GROUP BY
  event_name,
  COALESCE(bucket_name, '-'),
  NOT COALESCE(read_only, FALSE),
  COALESCE(NULLIF(error_code, ''), 'ok')
ORDER BY
  is_change DESC,
  first_seen,
  event_name,
  bucket,
  outcome
