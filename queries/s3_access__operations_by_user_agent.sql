-- description: Operations per user agent: requests, distinct IPs and errors.
-- sources: s3_access
-- param top: integer = 100 -- how many (user agent, operation) rows to return
SELECT
  user_agent,
  operation,
  count(*) AS requests,
  count(DISTINCT remote_ip) AS remote_ips,
  count_if(http_status >= 400) AS errors
FROM s3_access
WHERE time >= :start AND time < :end
GROUP BY user_agent, operation
ORDER BY requests DESC, user_agent NULLS FIRST, operation
LIMIT :top
