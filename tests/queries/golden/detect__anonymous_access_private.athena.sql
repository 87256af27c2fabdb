SELECT
  bucket,
  remote_ip AS source_ip,
  CAST(NULL AS VARCHAR) AS principal,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen,
  COUNT(*) AS event_count,
  SUM(COALESCE(bytes_sent, 0)) AS bytes,
  COUNT(DISTINCT operation) AS operations,
  ARRAY[MIN(key), MAX(key)] AS sample_keys,
  ARRAY[MIN(request_id), MAX(request_id)] AS sample_request_ids
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
  AND requester IS NULL
  AND http_status < 400
  AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), bucket)
GROUP BY
  bucket,
  remote_ip
HAVING
  COUNT(*) >= 1
