-- description: Per bucket and log source, rows, first and last time inside a window: where the evidence stops (a bucket whose access logs end while others go on was likely switched off), and which kinds of CloudTrail events the bucket has (management, data reads, data writes): what the logs in hand can answer.
-- sources: s3_access, cloudtrail
SELECT
    bucket,
    's3_access' AS source,
    count(*) AS row_count,
    min(time) AS first_time,
    max(time) AS last_time,
    CAST(0 AS bigint) AS management_events,
    CAST(0 AS bigint) AS data_read_events,
    CAST(0 AS bigint) AS data_write_events
FROM s3_access
WHERE time >= :start AND time < :end
GROUP BY bucket
UNION ALL
SELECT
    bucket_name AS bucket,
    'cloudtrail' AS source,
    count(*) AS row_count,
    min(event_time) AS first_time,
    max(event_time) AS last_time,
    count_if(management_event) AS management_events,
    count_if(NOT coalesce(management_event, false) AND read_only) AS data_read_events,
    count_if(NOT coalesce(management_event, false) AND NOT coalesce(read_only, true)) AS data_write_events
FROM cloudtrail
WHERE event_time >= :start AND event_time < :end
  AND event_source = 's3.amazonaws.com'
  AND bucket_name IS NOT NULL
GROUP BY bucket_name
ORDER BY bucket, source DESC
