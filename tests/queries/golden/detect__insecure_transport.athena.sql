WITH insecure AS (
  SELECT
    bucket,
    remote_ip,
    COALESCE(requester, '') AS principal_key,
    COALESCE(tls_version, 'plain HTTP') AS transport,
    key,
    request_id,
    bytes_sent,
    time
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
    AND (
      tls_version IS NULL
      OR CONTAINS(CAST(ARRAY['TLSv1', 'TLSv1.1', 'SSLv3'] AS ARRAY(VARCHAR)), tls_version)
    )
    AND operation NOT LIKE 'BATCH.%'
    AND operation NOT LIKE 'S3.%'
    AND (
      NOT signature_version IS NULL
      OR NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), bucket)
    )
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(requester, ''))
)
SELECT
  bucket,
  remote_ip AS source_ip,
  NULLIF(principal_key, '') AS principal,
  transport,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen,
  COUNT(*) AS event_count,
  SUM(COALESCE(bytes_sent, 0)) AS bytes,
  ARRAY[MIN(key), MAX(key)] AS sample_keys,
  ARRAY[MIN(request_id), MAX(request_id)] AS sample_request_ids
FROM insecure
GROUP BY
  bucket,
  remote_ip,
  principal_key,
  transport
HAVING
  COUNT(*) >= 1
