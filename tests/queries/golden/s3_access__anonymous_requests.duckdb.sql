SELECT
  bucket,
  remote_ip,
  operation,
  http_status,
  COUNT(*) AS requests,
  CAST(COALESCE(SUM(bytes_sent), 0) AS BIGINT) AS bytes_sent,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND requester IS NULL
  AND (
    ARRAY_LENGTH(CAST([] AS TEXT[])) = 0
    OR ARRAY_CONTAINS(CAST([] AS TEXT[]), bucket)
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
