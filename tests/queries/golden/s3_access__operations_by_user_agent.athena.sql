SELECT
  user_agent,
  operation,
  COUNT(*) AS requests,
  COUNT(DISTINCT remote_ip) AS remote_ips,
  COUNT_IF(http_status >= 400) AS errors
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
  user_agent,
  operation
ORDER BY
  requests DESC,
  user_agent NULLS FIRST,
  operation
LIMIT 100
