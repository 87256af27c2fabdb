-- description: Requests, errors and bytes per bucket per hour, the input of the hour-of-week baseline (baseline_deviation).
-- sources: s3_access
-- param start: timestamp -- first hour of history, inclusive (UTC)
SELECT
    bucket,
    date_trunc('hour', time) AS hour,
    count(*) AS requests,
    count_if(http_status >= 400 AND http_status < 500) AS errors_4xx,
    sum(coalesce(bytes_sent, 0)) AS bytes,
    approx_distinct(remote_ip) AS distinct_ips
FROM s3_access
WHERE time >= :start
  AND time < :end
GROUP BY bucket, date_trunc('hour', time)
