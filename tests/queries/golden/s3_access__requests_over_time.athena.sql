SELECT
  DATE_TRUNC('hour', time) AS period,
  bucket,
  http_status,
  COUNT(*) AS requests,
  CAST(COALESCE(SUM(bytes_sent), 0) AS BIGINT) AS bytes_sent
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
  2,
  3
ORDER BY
  period,
  bucket,
  http_status
