SELECT
  bucket,
  DATE_TRUNC('HOUR', time) AS hour,
  COUNT(*) AS requests,
  COUNT_IF(http_status >= 400 AND http_status < 500) AS errors_4xx,
  SUM(COALESCE(bytes_sent, 0)) AS bytes,
  APPROX_DISTINCT(remote_ip) AS distinct_ips
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
  bucket,
  DATE_TRUNC('HOUR', time)
