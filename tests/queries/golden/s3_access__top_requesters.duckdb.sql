SELECT
  requester,
  COUNT(*) AS requests,
  COUNT(DISTINCT remote_ip) AS remote_ips,
  COUNT(DISTINCT bucket) AS buckets,
  COUNT_IF(COALESCE(http_status >= 400, FALSE)) AS errors,
  CAST(COALESCE(SUM(bytes_sent), 0) AS BIGINT) AS bytes_sent,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
GROUP BY
  requester
ORDER BY
  requests DESC,
  requester NULLS FIRST
LIMIT 20
