SELECT
  bucket,
  's3_access' AS source,
  COUNT(*) AS row_count,
  MIN(time) AS first_time,
  MAX(time) AS last_time,
  CAST(0 AS BIGINT) AS management_events,
  CAST(0 AS BIGINT) AS data_read_events,
  CAST(0 AS BIGINT) AS data_write_events
FROM (
  SELECT
    *
  FROM s3forensics.s3_access
  WHERE
    "date" BETWEEN '2026/11/16' AND '2026/11/22'
) AS s3_access
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
  COUNT_IF(management_event) AS management_events,
  COUNT_IF(NOT COALESCE(management_event, FALSE) AND read_only) AS data_read_events,
  COUNT_IF(NOT COALESCE(management_event, FALSE) AND NOT COALESCE(read_only, TRUE)) AS data_write_events
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
  AND event_source = 's3.amazonaws.com'
  AND NOT bucket_name IS NULL
GROUP BY
  bucket_name
ORDER BY
  bucket,
  source DESC
