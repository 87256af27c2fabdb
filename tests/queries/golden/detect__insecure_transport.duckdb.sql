WITH insecure AS NOT MATERIALIZED (
  SELECT
    bucket,
    remote_ip,
    COALESCE(requester, '') AS principal_key,
    COALESCE(tls_version, 'plain HTTP') AS transport,
    key,
    request_id,
    bytes_sent,
    time
  FROM s3_access AS s3_access
  WHERE
    time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND (
      tls_version IS NULL
      OR ARRAY_CONTAINS(CAST(['TLSv1', 'TLSv1.1', 'SSLv3'] AS TEXT[]), tls_version)
    )
    AND operation NOT LIKE 'BATCH.%'
    AND operation NOT LIKE 'S3.%'
    AND (
      NOT signature_version IS NULL OR NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), bucket)
    )
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(requester, ''))
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
  [MIN(key), MAX(key)] AS sample_keys,
  [MIN(request_id), MAX(request_id)] AS sample_request_ids
FROM insecure
GROUP BY
  bucket,
  remote_ip,
  principal_key,
  transport
HAVING
  COUNT(*) >= 1
