SELECT
  bucket,
  's3_access' AS source,
  COUNT(*) AS row_count,
  MIN(time) AS first_time,
  MAX(time) AS last_time,
  CAST(0 AS BIGINT) AS management_events,
  CAST(0 AS BIGINT) AS data_read_events,
  CAST(0 AS BIGINT) AS data_write_events
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
GROUP BY
  bucket
UNION ALL
SELECT
  bucket_name AS bucket,
  'cloudtrail' AS source,
  COUNT(*) AS row_count,
  MIN(event_time) AS first_time,
  MAX(event_time) AS last_time,
  COUNT_IF(COALESCE(management_event, FALSE)) AS management_events,
  COUNT_IF(COALESCE(NOT COALESCE(management_event, FALSE) AND read_only, FALSE)) AS data_read_events,
  COUNT_IF(
    COALESCE(NOT COALESCE(management_event, FALSE) AND NOT COALESCE(read_only, TRUE), FALSE)
  ) AS data_write_events
FROM cloudtrail AS cloudtrail
WHERE
  event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND event_source = 's3.amazonaws.com'
  AND NOT bucket_name IS NULL
GROUP BY
  bucket_name
ORDER BY
  bucket,
  source DESC
