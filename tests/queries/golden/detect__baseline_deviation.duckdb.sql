SELECT
  bucket,
  MAKE_TIMESTAMPTZ(EPOCH_US(time) // 3600000000 * 3600000000) AS hour,
  COUNT(*) AS requests,
  COUNT_IF(COALESCE(http_status >= 400 AND http_status < 500, FALSE)) AS errors_4xx,
  SUM(COALESCE(bytes_sent, 0)) AS bytes,
  APPROX_COUNT_DISTINCT(remote_ip) AS distinct_ips
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
GROUP BY
  bucket,
  MAKE_TIMESTAMPTZ(EPOCH_US(time) // 3600000000 * 3600000000)
