SELECT
  MAKE_TIMESTAMPTZ(EPOCH_US(time) // 3600000000 * 3600000000) AS hour,
  bucket,
  COUNT(*) AS requests,
  COUNT_IF(COALESCE(http_status >= 400, FALSE)) AS errors,
  COUNT_IF(COALESCE(error_code = 'AccessDenied', FALSE)) AS access_denied,
  CAST(COUNT_IF(COALESCE(http_status >= 400, FALSE)) AS DOUBLE) / COUNT(*) AS error_rate,
  CAST(COUNT_IF(COALESCE(error_code = 'AccessDenied', FALSE)) AS DOUBLE) / COUNT(*) AS access_denied_rate
FROM s3_access AS s3_access
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
