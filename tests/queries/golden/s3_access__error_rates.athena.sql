SELECT
  DATE_TRUNC('HOUR', time) AS hour,
  bucket,
  COUNT(*) AS requests,
  COUNT_IF(http_status >= 400) AS errors,
  COUNT_IF(error_code = 'AccessDenied') AS access_denied,
  CAST(COUNT_IF(http_status >= 400) AS DOUBLE) / COUNT(*) AS error_rate,
  CAST(COUNT_IF(error_code = 'AccessDenied') AS DOUBLE) / COUNT(*) AS access_denied_rate
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
  1,
  2
HAVING
  COUNT(*) >= 1
ORDER BY
  hour,
  bucket
