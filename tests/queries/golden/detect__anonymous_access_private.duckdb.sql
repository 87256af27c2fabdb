SELECT
  bucket,
  remote_ip AS source_ip,
  CAST(NULL AS TEXT) AS principal,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen,
  COUNT(*) AS event_count,
  SUM(COALESCE(bytes_sent, 0)) AS bytes,
  COUNT(DISTINCT operation) AS operations,
  [MIN(key), MAX(key)] AS sample_keys,
  [MIN(request_id), MAX(request_id)] AS sample_request_ids
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND requester IS NULL
  AND http_status < 400
  AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), bucket)
GROUP BY
  bucket,
  remote_ip
HAVING
  COUNT(*) >= 1
