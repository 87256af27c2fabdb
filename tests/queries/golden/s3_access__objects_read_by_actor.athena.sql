SELECT
  bucket,
  key,
  COUNT(*) AS requests,
  COUNT_IF(http_status BETWEEN 200 AND 299) AS successful,
  CAST(COALESCE(SUM(bytes_sent), 0) AS BIGINT) AS bytes_sent,
  MIN(time) AS first_read,
  MAX(time) AS last_read
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
  AND (
    requester = '203.0.113.50' OR remote_ip = '203.0.113.50'
  )
  AND CONTAINS(
    CAST(ARRAY['REST.GET.OBJECT', 'WEBSITE.GET.OBJECT', 'REST.COPY.OBJECT_GET'] AS ARRAY(VARCHAR)),
    operation
  )
GROUP BY
  bucket,
  key
ORDER BY
  bytes_sent DESC,
  bucket,
  key
