SELECT
  source_ip_address,
  user_identity_type,
  user_identity_arn,
  user_identity_user_name,
  user_identity_access_key_id,
  COUNT(*) AS events,
  MIN(event_time) AS first_seen,
  MAX(event_time) AS last_seen
FROM (
  SELECT
    *
  FROM s3forensics.cloudtrail
  WHERE
    "date" BETWEEN '2026/11/16' AND '2026/11/22'
) AS cloudtrail
WHERE
  event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND NOT user_identity_access_key_id IS NULL
GROUP BY
  source_ip_address,
  user_identity_type,
  user_identity_arn,
  user_identity_user_name,
  user_identity_access_key_id
ORDER BY
  first_seen,
  source_ip_address,
  user_identity_access_key_id
