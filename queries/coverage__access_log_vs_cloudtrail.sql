-- description: Per hour and bucket, requests in server access logs vs S3 data events in CloudTrail.
-- sources: s3_access, cloudtrail
WITH access AS (
  SELECT date_trunc('hour', time) AS hour, bucket, count(*) AS requests
  FROM s3_access
  WHERE time >= :start AND time < :end
  GROUP BY 1, 2
),
trail AS (
  SELECT date_trunc('hour', event_time) AS hour, bucket_name AS bucket, count(*) AS events
  FROM cloudtrail
  WHERE event_time >= :start AND event_time < :end
    AND event_source = 's3.amazonaws.com'
    AND event_category = 'Data'
    AND bucket_name IS NOT NULL
  GROUP BY 1, 2
)
SELECT
  coalesce(access.hour, trail.hour) AS hour,
  coalesce(access.bucket, trail.bucket) AS bucket,
  coalesce(access.requests, 0) AS access_log_requests,
  coalesce(trail.events, 0) AS cloudtrail_data_events
FROM access
FULL OUTER JOIN trail ON access.hour = trail.hour AND access.bucket = trail.bucket
ORDER BY hour, bucket
