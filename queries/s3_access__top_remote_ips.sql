-- description: The remote IPs that sent the most requests, with errors, bytes and first/last seen.
-- sources: s3_access
-- param min_requests: bigint = 1 -- fewest requests for an IP to be reported
-- param top: integer = 20 -- how many IPs to return
SELECT
  remote_ip,
  count(*) AS requests,
  count(DISTINCT bucket) AS buckets,
  count(DISTINCT requester) AS requesters,
  count_if(http_status >= 400) AS errors,
  CAST(coalesce(sum(bytes_sent), 0) AS bigint) AS bytes_sent,
  min(time) AS first_seen,
  max(time) AS last_seen
FROM s3_access
WHERE time >= :start AND time < :end
GROUP BY remote_ip
HAVING count(*) >= :min_requests
ORDER BY requests DESC, remote_ip
LIMIT :top
