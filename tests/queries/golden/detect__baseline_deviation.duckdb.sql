WITH per_source AS (
  SELECT
    bucket,
    MAKE_TIMESTAMPTZ(EPOCH_US(time) // 3600000000 * 3600000000) AS hour,
    COALESCE(remote_ip, '-') AS source,
    COUNT(*) AS requests,
    COUNT_IF(COALESCE(http_status >= 400 AND http_status < 500, FALSE)) AS errors_4xx,
    SUM(COALESCE(bytes_sent, 0)) AS bytes
  FROM s3_access AS s3_access
  WHERE
    time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  GROUP BY
    bucket,
    MAKE_TIMESTAMPTZ(EPOCH_US(time) // 3600000000 * 3600000000),
    COALESCE(remote_ip, '-')
), hourly /* The busiest source of each hour by requests and by bytes; ties go to the smallest address, */ /* on both engines. A maximum and a join, not a sort: an hour may hold millions of sources. */ AS (
  SELECT
    bucket,
    hour,
    SUM(requests) AS requests,
    SUM(errors_4xx) AS errors_4xx,
    SUM(bytes) AS bytes,
    COUNT(*) AS distinct_ips,
    MAX(requests) AS top_requests,
    MAX(bytes) AS top_bytes
  FROM per_source
  GROUP BY
    bucket,
    hour
), tops AS (
  SELECT
    s.bucket,
    s.hour,
    MIN(CASE WHEN s.requests = h.top_requests THEN s.source END) AS top_source,
    MIN(CASE WHEN s.bytes = h.top_bytes THEN s.source END) AS top_bytes_source
  FROM per_source AS s
  JOIN hourly AS h
    ON h.bucket = s.bucket AND h.hour = s.hour
  WHERE
    s.requests = h.top_requests OR s.bytes = h.top_bytes
  GROUP BY
    s.bucket,
    s.hour
)
SELECT
  h.bucket,
  h.hour,
  h.requests,
  h.errors_4xx,
  h.bytes,
  h.distinct_ips,
  t.top_source,
  h.top_requests AS top_source_requests,
  t.top_bytes_source,
  h.top_bytes AS top_bytes_source_bytes
FROM hourly AS h
JOIN tops AS t
  ON t.bucket = h.bucket AND t.hour = h.hour
