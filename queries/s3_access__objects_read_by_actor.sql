-- description: Objects read by one principal or IP: each key with requests, bytes and first/last read.
-- sources: s3_access
-- param actor: varchar -- requester ARN or remote IP to follow
-- param operations: array(varchar) = ["REST.GET.OBJECT", "WEBSITE.GET.OBJECT", "REST.COPY.OBJECT_GET"] -- operations that read an object
SELECT
  bucket,
  key,
  count(*) AS requests,
  count_if(http_status BETWEEN 200 AND 299) AS successful,
  CAST(coalesce(sum(bytes_sent), 0) AS bigint) AS bytes_sent,
  min(time) AS first_read,
  max(time) AS last_read
FROM s3_access
WHERE time >= :start AND time < :end
  AND (requester = :actor OR remote_ip = :actor)
  AND contains(:operations, operation)
GROUP BY bucket, key
ORDER BY bytes_sent DESC, bucket, key
