SELECT
  user_agent,
  operation,
  COUNT(*) AS requests,
  COUNT(DISTINCT remote_ip) AS remote_ips,
  COUNT_IF(COALESCE(http_status >= 400, FALSE)) AS errors
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
GROUP BY
  user_agent,
  operation
ORDER BY
  requests DESC,
  user_agent NULLS FIRST,
  operation
LIMIT 100
