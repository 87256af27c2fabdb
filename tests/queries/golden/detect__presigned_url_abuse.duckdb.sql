WITH presigned AS NOT MATERIALIZED (
  SELECT
    bucket,
    remote_ip,
    requester,
    key,
    request_id,
    bytes_sent,
    time,
    COALESCE(
      REGEXP_EXTRACT(request_uri, '[?&]X-Amz-Signature=([0-9A-Fa-f]+)', 1),
      REGEXP_EXTRACT(request_uri, '[?&]Signature=([^& ]+)', 1)
    ) AS signature,
    TRY_CAST(REGEXP_EXTRACT(request_uri, '[?&]X-Amz-Expires=([0-9]+)', 1) AS BIGINT) AS expires
  FROM s3_access AS s3_access
  WHERE
    time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND (
      authentication_type = 'QueryString'
      OR STRPOS(COALESCE(request_uri, ''), 'X-Amz-Signature=') > 0
    )
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(requester, ''))
), per_signature AS (
  SELECT
    bucket,
    signature,
    MAX(requester) AS principal,
    COUNT(*) AS n,
    COUNT(DISTINCT remote_ip) AS ips,
    MIN(remote_ip) AS ip_a,
    MAX(remote_ip) AS ip_b,
    MAX(expires) AS expires,
    SUM(COALESCE(bytes_sent, 0)) AS b,
    MIN(time) AS first_time,
    MAX(time) AS last_time,
    MIN(key) AS key_a,
    MAX(key) AS key_b,
    MIN(request_id) AS request_a,
    MAX(request_id) AS request_b
  FROM presigned
  GROUP BY
    bucket,
    signature
  HAVING
    COUNT(DISTINCT remote_ip) >= 4 OR COUNT(*) >= 100 OR MAX(expires) > 86400
)
SELECT
  bucket,
  CASE WHEN ips = 1 THEN ip_a END AS source_ip,
  principal,
  first_time AS first_seen,
  last_time AS last_seen,
  n AS event_count,
  b AS bytes,
  ips AS distinct_ips,
  expires AS expires_seconds,
  SUBSTRING(COALESCE(signature, '-'), 1, 12) AS signature_prefix,
  [ip_a, ip_b] AS sample_ips,
  [key_a, key_b] AS sample_keys,
  [request_a, request_b] AS sample_request_ids
FROM per_signature
