-- description: Bytes sent (egress) per remote IP and requester, largest first.
-- sources: s3_access
-- param min_bytes: bigint = 0 -- fewest bytes sent for a pair to be reported
-- param top: integer = 50 -- how many pairs to return
SELECT
  remote_ip,
  requester,
  CAST(coalesce(sum(bytes_sent), 0) AS bigint) AS bytes_sent,
  count(*) AS requests,
  count(DISTINCT key) AS objects,
  count(DISTINCT bucket) AS buckets,
  min(time) AS first_seen,
  max(time) AS last_seen
FROM s3_access
WHERE time >= :start AND time < :end
GROUP BY remote_ip, requester
HAVING coalesce(sum(bytes_sent), 0) >= :min_bytes
ORDER BY bytes_sent DESC, remote_ip, requester NULLS FIRST
LIMIT :top
