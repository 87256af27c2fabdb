SELECT
  bucket,
  key,
  remote_ip,
  requester,
  COUNT(*) AS requests,
  COUNT_IF(COALESCE(http_status >= 400, FALSE)) AS errors,
  CAST(COALESCE(SUM(bytes_sent), 0) AS BIGINT) AS bytes_sent,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND authentication_type = 'QueryString'
GROUP BY
  bucket,
  key,
  remote_ip,
  requester
ORDER BY
  first_seen,
  bucket,
  key,
  remote_ip,
  requester NULLS FIRST
