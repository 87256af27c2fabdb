SELECT
  remote_ip,
  requester,
  CAST(COALESCE(SUM(bytes_sent), 0) AS BIGINT) AS bytes_sent,
  COUNT(*) AS requests,
  COUNT(DISTINCT key) AS objects,
  COUNT(DISTINCT bucket) AS buckets,
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
  remote_ip,
  requester
HAVING
  COALESCE(SUM(bytes_sent), 0) >= 0
ORDER BY
  bytes_sent DESC,
  remote_ip,
  requester NULLS FIRST
LIMIT 50
