-- description: What the access logs show about how each bucket is meant to be read: website-endpoint requests, anonymous successes (how many addresses, how many days), requests from CloudFront (origin access control signs as svc:cloudfront.amazonaws.com; an origin access identity is a CloudFront user).
-- sources: s3_access
SELECT
    bucket,
    count(*) AS requests,
    sum(CASE WHEN http_status < 400 THEN 1 ELSE 0 END) AS successes,
    sum(CASE WHEN operation LIKE 'WEBSITE.%' THEN 1 ELSE 0 END) AS website_requests,
    sum(CASE WHEN requester IS NULL AND http_status < 400 THEN 1 ELSE 0 END) AS anonymous_successes,
    count(DISTINCT CASE WHEN requester IS NULL AND http_status < 400 THEN remote_ip END) AS anonymous_addresses,
    count(DISTINCT CASE WHEN requester IS NULL AND http_status < 400 THEN date_trunc('day', time) END) AS anonymous_days,
    sum(CASE
        WHEN requester = 'svc:cloudfront.amazonaws.com' OR requester LIKE '%CloudFront Origin Access Identity%' THEN 1
        ELSE 0
    END) AS cloudfront_requests
FROM s3_access
WHERE time >= :start
  AND time < :end
  AND bucket IS NOT NULL
GROUP BY bucket
ORDER BY bucket
