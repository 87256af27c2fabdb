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
), ranked AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY bucket, hour ORDER BY requests DESC, source) AS rank_in_hour, /* The busiest source of the hour; ties go to the smallest address, on both engines. */
    ROW_NUMBER() OVER (PARTITION BY bucket, hour ORDER BY bytes DESC, source) AS bytes_rank_in_hour
  FROM per_source
)
SELECT
  bucket,
  hour,
  SUM(requests) AS requests,
  SUM(errors_4xx) AS errors_4xx,
  SUM(bytes) AS bytes,
  COUNT(*) AS distinct_ips,
  MAX(CASE WHEN rank_in_hour = 1 THEN source END) AS top_source,
  MAX(CASE WHEN rank_in_hour = 1 THEN requests END) AS top_source_requests,
  MAX(CASE WHEN bytes_rank_in_hour = 1 THEN source END) AS top_bytes_source,
  MAX(CASE WHEN bytes_rank_in_hour = 1 THEN bytes END) AS top_bytes_source_bytes
FROM ranked
GROUP BY
  bucket,
  hour
