SELECT
  bucket,
  COUNT(*) AS requests,
  SUM(CASE WHEN http_status < 400 THEN 1 ELSE 0 END) AS successes,
  SUM(CASE WHEN operation LIKE 'WEBSITE.%' THEN 1 ELSE 0 END) AS website_requests,
  SUM(CASE WHEN requester IS NULL AND http_status < 400 THEN 1 ELSE 0 END) AS anonymous_successes,
  COUNT(DISTINCT CASE WHEN requester IS NULL AND http_status < 400 THEN remote_ip END) AS anonymous_addresses,
  COUNT(
    DISTINCT CASE WHEN requester IS NULL AND http_status < 400 THEN DATE_TRUNC('DAY', time) END
  ) AS anonymous_days,
  SUM(
    CASE
      WHEN requester = 'svc:cloudfront.amazonaws.com'
      OR requester LIKE '%CloudFront Origin Access Identity%'
      THEN 1
      ELSE 0
    END
  ) AS cloudfront_requests
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
  AND NOT bucket IS NULL
GROUP BY
  bucket
ORDER BY
  bucket
