-- description: First and last seen of each remote IP and requester pair (or of one actor).
-- sources: s3_access
-- param actor: varchar = '' -- requester ARN or remote IP to follow; empty for every actor
SELECT
  remote_ip,
  requester,
  min(time) AS first_seen,
  max(time) AS last_seen,
  count(*) AS requests,
  count(DISTINCT bucket) AS buckets,
  count(DISTINCT operation) AS operations
FROM s3_access
WHERE time >= :start AND time < :end
  AND (:actor = '' OR requester = :actor OR remote_ip = :actor)
GROUP BY remote_ip, requester
ORDER BY first_seen, remote_ip, requester NULLS FIRST
