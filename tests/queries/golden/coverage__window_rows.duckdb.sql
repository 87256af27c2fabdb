SELECT
  's3_access' AS source,
  COUNT(*) AS row_count,
  MIN(time) AS first_time,
  MAX(time) AS last_time
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
UNION ALL
SELECT
  'cloudtrail' AS source,
  COUNT(*) AS row_count,
  MIN(event_time) AS first_time,
  MAX(event_time) AS last_time
FROM cloudtrail AS cloudtrail
WHERE
  event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
ORDER BY
  source DESC
