-- description: Error and AccessDenied rates per hour and bucket.
-- sources: s3_access
-- param min_requests: bigint = 1 -- fewest requests in an hour for it to be reported
SELECT
  date_trunc('hour', time) AS hour,
  bucket,
  count(*) AS requests,
  count_if(http_status >= 400) AS errors,
  count_if(error_code = 'AccessDenied') AS access_denied,
  CAST(count_if(http_status >= 400) AS double) / count(*) AS error_rate,
  CAST(count_if(error_code = 'AccessDenied') AS double) / count(*) AS access_denied_rate
FROM s3_access
WHERE time >= :start AND time < :end
GROUP BY 1, 2
HAVING count(*) >= :min_requests
ORDER BY hour, bucket
