SELECT
  bucket,
  COUNT(*) AS requests,
  SUM(CASE WHEN http_status < 400 THEN 1 ELSE 0 END) AS successes,
  SUM(CASE WHEN operation LIKE 'WEBSITE.%' THEN 1 ELSE 0 END) AS website_requests,
  SUM(CASE WHEN requester IS NULL AND http_status < 400 THEN 1 ELSE 0 END) AS anonymous_successes,
  COUNT(DISTINCT CASE WHEN requester IS NULL AND http_status < 400 THEN remote_ip END) AS anonymous_addresses,
  COUNT(
    DISTINCT CASE
      WHEN requester IS NULL AND http_status < 400
      THEN MAKE_TIMESTAMPTZ(EPOCH_US(time) // 86400000000 * 86400000000)
    END
  ) AS anonymous_days,
  SUM(
    CASE
      WHEN requester = 'svc:cloudfront.amazonaws.com'
      OR requester LIKE '%CloudFront Origin Access Identity%'
      THEN 1
      ELSE 0
    END
  ) AS cloudfront_requests
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND NOT bucket IS NULL
GROUP BY
  bucket
ORDER BY
  bucket
