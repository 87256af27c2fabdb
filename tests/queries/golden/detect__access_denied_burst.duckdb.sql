WITH denied AS NOT MATERIALIZED (
  SELECT
    bucket,
    remote_ip,
    requester,
    key,
    request_id,
    time,
    TO_TIMESTAMP(FLOOR(EPOCH(time) / (
      15 * 60
    )) * (
      15 * 60
    )) AS period
  FROM s3_access AS s3_access
  WHERE
    time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND (
      http_status = 403 OR error_code IN ('AccessDenied', 'AllAccessDisabled')
    )
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(requester, ''))
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_agent, ''))
), bursts AS (
  SELECT
    bucket,
    remote_ip,
    COALESCE(requester, '') AS principal_key,
    period,
    COUNT(*) AS n,
    COUNT(DISTINCT key) AS keys,
    MIN(time) AS first_time,
    MAX(time) AS last_time,
    MIN(key) AS key_a,
    MAX(key) AS key_b,
    MIN(request_id) AS request_a
  FROM denied
  GROUP BY
    bucket,
    remote_ip,
    COALESCE(requester, ''),
    period
  HAVING
    COUNT(*) >= 20 AND COUNT(DISTINCT key) >= 3
)
SELECT
  bucket,
  remote_ip AS source_ip,
  NULLIF(principal_key, '') AS principal,
  MIN(first_time) AS first_seen,
  MAX(last_time) AS last_seen,
  SUM(n) AS event_count,
  CAST(0 AS BIGINT) AS bytes,
  MAX(n) AS peak,
  COUNT(*) AS periods,
  ARRAY_AGG(DISTINCT key_a) AS sample_keys,
  ARRAY_AGG(DISTINCT key_b) AS sample_keys_more,
  ARRAY_AGG(DISTINCT request_a) AS sample_request_ids
FROM bursts
GROUP BY
  bucket,
  remote_ip,
  principal_key
