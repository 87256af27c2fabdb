-- description: Requests authenticated by a presigned URL (QueryString auth), per key and caller.
-- sources: s3_access
SELECT
  bucket,
  key,
  remote_ip,
  requester,
  count(*) AS requests,
  count_if(http_status >= 400) AS errors,
  CAST(coalesce(sum(bytes_sent), 0) AS bigint) AS bytes_sent,
  min(time) AS first_seen,
  max(time) AS last_seen
FROM s3_access
WHERE time >= :start AND time < :end
  AND authentication_type = 'QueryString'
GROUP BY bucket, key, remote_ip, requester
ORDER BY first_seen, bucket, key, remote_ip, requester NULLS FIRST
