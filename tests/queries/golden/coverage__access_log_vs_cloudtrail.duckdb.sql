WITH access AS (
  SELECT
    MAKE_TIMESTAMPTZ(EPOCH_US(time) // 3600000000 * 3600000000) AS hour,
    bucket,
    COUNT(*) AS requests
  FROM s3_access AS s3_access
  WHERE
    time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  GROUP BY
    1,
    2
), trail AS (
  SELECT
    MAKE_TIMESTAMPTZ(EPOCH_US(event_time) // 3600000000 * 3600000000) AS hour,
    bucket_name AS bucket,
    COUNT(*) AS events
  FROM cloudtrail AS cloudtrail
  WHERE
    event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND event_source = 's3.amazonaws.com'
    AND event_category = 'Data'
    AND NOT bucket_name IS NULL
  GROUP BY
    1,
    2
)
SELECT
  COALESCE(access.hour, trail.hour) AS hour,
  COALESCE(access.bucket, trail.bucket) AS bucket,
  COALESCE(access.requests, 0) AS access_log_requests,
  COALESCE(trail.events, 0) AS cloudtrail_data_events
FROM access
FULL OUTER JOIN trail
  ON access.hour = trail.hour AND access.bucket = trail.bucket
ORDER BY
  hour,
  bucket
