SELECT
  remote_ip,
  COUNT(*) AS requests,
  COUNT(DISTINCT bucket) AS buckets,
  COUNT(DISTINCT requester) AS requesters,
  COUNT_IF(http_status >= 400) AS errors,
  CAST(COALESCE(SUM(bytes_sent), 0) AS BIGINT) AS bytes_sent,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen
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
  remote_ip
HAVING
  COUNT(*) >= 1
ORDER BY
  requests DESC,
  remote_ip
LIMIT 20
