-- description: Anonymous requests that S3 answered with success on a bucket whose profile says it needs authentication.
-- sources: s3_access
-- param min_requests: integer = 1 -- fewest successful anonymous requests from one IP to report
-- param public_buckets: array(varchar) = [] -- buckets public by design (profile public_site); never reported
SELECT
    bucket,
    remote_ip AS source_ip,
    CAST(NULL AS varchar) AS principal,
    min(time) AS first_seen,
    max(time) AS last_seen,
    count(*) AS event_count,
    sum(coalesce(bytes_sent, 0)) AS bytes,
    count(DISTINCT operation) AS operations,
    ARRAY[min(key), max(key)] AS sample_keys,
    ARRAY[min(request_id), max(request_id)] AS sample_request_ids
FROM s3_access
WHERE time >= :start
  AND time < :end
  AND requester IS NULL
  AND http_status < 400
  AND NOT contains(:public_buckets, bucket)
GROUP BY bucket, remote_ip
HAVING count(*) >= :min_requests
