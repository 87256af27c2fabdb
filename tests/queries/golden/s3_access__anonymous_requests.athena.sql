SELECT
  bucket,
  remote_ip,
  operation,
  http_status,
  COUNT(*) AS requests,
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
  AND requester IS NULL
  AND (
    CARDINALITY(CAST(ARRAY[] AS ARRAY(VARCHAR))) = 0
    OR CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), bucket)
  )
GROUP BY
  bucket,
  remote_ip,
  operation,
  http_status
ORDER BY
  requests DESC,
  bucket,
  remote_ip,
  operation,
  http_status
