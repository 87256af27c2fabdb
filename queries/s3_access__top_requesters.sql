-- description: The requesters (IAM principals; null = anonymous) that sent the most requests.
-- sources: s3_access
-- param top: integer = 20 -- how many requesters to return
SELECT
  requester,
  count(*) AS requests,
  count(DISTINCT remote_ip) AS remote_ips,
  count(DISTINCT bucket) AS buckets,
  count_if(http_status >= 400) AS errors,
  CAST(coalesce(sum(bytes_sent), 0) AS bigint) AS bytes_sent,
  min(time) AS first_seen,
  max(time) AS last_seen
FROM s3_access
WHERE time >= :start AND time < :end
GROUP BY requester
ORDER BY requests DESC, requester NULLS FIRST
LIMIT :top
