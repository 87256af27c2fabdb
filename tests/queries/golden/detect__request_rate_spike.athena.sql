WITH req AS (
  SELECT
    bucket,
    remote_ip,
    requester,
    key,
    request_id,
    bytes_sent,
    time,
    FROM_UNIXTIME(FLOOR(TO_UNIXTIME(time) / (
      5 * 60
    )) * (
      5 * 60
    )) AS period
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
      NOT TRUE OR operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT')
    )
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(requester, ''))
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_agent, ''))
), hot_ip /* Counts alone first (cheap), then details only for the few hot periods. */ AS (
  SELECT
    bucket,
    remote_ip,
    period
  FROM req
  GROUP BY
    bucket,
    remote_ip,
    period
  HAVING
    COUNT(*) > 600
), hot_bucket AS (
  SELECT
    bucket,
    period,
    APPROX_DISTINCT(remote_ip) AS ips
  FROM req
  GROUP BY
    bucket,
    period
  HAVING
    COUNT(*) > 10000
), per_ip AS (
  SELECT
    r.bucket,
    r.remote_ip,
    r.period,
    MAX(r.requester) AS principal,
    COUNT(*) AS n,
    SUM(COALESCE(r.bytes_sent, 0)) AS b,
    MIN(r.time) AS first_time,
    MAX(r.time) AS last_time,
    MIN(r.key) AS key_a,
    MAX(r.key) AS key_b,
    MIN(r.request_id) AS request_a
  FROM req AS r
  JOIN hot_ip AS h
    ON r.bucket = h.bucket AND r.remote_ip = h.remote_ip AND r.period = h.period
  GROUP BY
    r.bucket,
    r.remote_ip,
    r.period
), per_bucket AS (
  SELECT
    r.bucket,
    r.period,
    COUNT(*) AS n,
    MAX(h.ips) AS ips,
    SUM(COALESCE(r.bytes_sent, 0)) AS b,
    MIN(r.time) AS first_time,
    MAX(r.time) AS last_time,
    MIN(r.key) AS key_a,
    MAX(r.key) AS key_b,
    MIN(r.request_id) AS request_a
  FROM req AS r
  JOIN hot_bucket AS h
    ON r.bucket = h.bucket AND r.period = h.period
  GROUP BY
    r.bucket,
    r.period
)
SELECT
  bucket,
  remote_ip AS source_ip,
  MAX(principal) AS principal,
  'ip' AS scope,
  MIN(first_time) AS first_seen,
  MAX(last_time) AS last_seen,
  SUM(n) AS event_count,
  SUM(b) AS bytes,
  MAX(n) AS peak,
  COUNT(*) AS periods,
  CAST(NULL AS BIGINT) AS distinct_ips,
  ARRAY_AGG(DISTINCT key_a) AS sample_keys,
  ARRAY_AGG(DISTINCT key_b) AS sample_keys_more,
  ARRAY_AGG(DISTINCT request_a) AS sample_request_ids
FROM per_ip
GROUP BY
  bucket,
  remote_ip
UNION ALL
SELECT
  bucket,
  CAST(NULL AS VARCHAR) AS source_ip,
  CAST(NULL AS VARCHAR) AS principal,
  'bucket' AS scope,
  MIN(first_time) AS first_seen,
  MAX(last_time) AS last_seen,
  SUM(n) AS event_count,
  SUM(b) AS bytes,
  MAX(n) AS peak,
  COUNT(*) AS periods,
  MAX(ips) AS distinct_ips,
  ARRAY_AGG(DISTINCT key_a) AS sample_keys,
  ARRAY_AGG(DISTINCT key_b) AS sample_keys_more,
  ARRAY_AGG(DISTINCT request_a) AS sample_request_ids
FROM per_bucket
GROUP BY
  bucket
