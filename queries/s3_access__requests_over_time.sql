-- description: Requests and bytes sent per time interval, bucket and HTTP status.
-- sources: s3_access
-- param interval: varchar = 'hour' -- width of each period: minute, hour or day
SELECT
  date_trunc(:interval, time) AS period,
  bucket,
  http_status,
  count(*) AS requests,
  CAST(coalesce(sum(bytes_sent), 0) AS bigint) AS bytes_sent
FROM s3_access
WHERE time >= :start AND time < :end
GROUP BY 1, 2, 3
ORDER BY period, bucket, http_status
