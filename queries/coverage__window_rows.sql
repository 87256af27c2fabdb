-- description: Rows, first and last time of each log source inside a window (detect's input check and default window).
-- sources: s3_access, cloudtrail
SELECT 's3_access' AS source, count(*) AS row_count, min(time) AS first_time, max(time) AS last_time
FROM s3_access
WHERE time >= :start AND time < :end
UNION ALL
SELECT 'cloudtrail' AS source, count(*) AS row_count, min(event_time) AS first_time, max(event_time) AS last_time
FROM cloudtrail
WHERE event_time >= :start AND event_time < :end
ORDER BY source DESC
