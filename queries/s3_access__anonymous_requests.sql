-- description: Anonymous (unauthenticated) requests per bucket, remote IP, operation and status.
-- sources: s3_access
-- param buckets: array(varchar) = [] -- only these buckets; empty for all
SELECT
  bucket,
  remote_ip,
  operation,
  http_status,
  count(*) AS requests,
  CAST(coalesce(sum(bytes_sent), 0) AS bigint) AS bytes_sent,
  min(time) AS first_seen,
  max(time) AS last_seen
FROM s3_access
WHERE time >= :start AND time < :end
  AND requester IS NULL
  AND (cardinality(:buckets) = 0 OR contains(:buckets, bucket))
GROUP BY bucket, remote_ip, operation, http_status
ORDER BY requests DESC, bucket, remote_ip, operation, http_status
