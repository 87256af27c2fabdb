SELECT
  MAKE_TIMESTAMPTZ(EPOCH_US(time) // 3600000000 * 3600000000) AS period,
  bucket,
  http_status,
  COUNT(*) AS requests,
  CAST(COALESCE(SUM(bytes_sent), 0) AS BIGINT) AS bytes_sent
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
GROUP BY
  1,
  2,
  3
ORDER BY
  period,
  bucket,
  http_status
