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
    time >= DATE_ADD('DAY', -14, CAST('2026-11-16 00:00:00' AS TIMESTAMP))
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND (
      NOT TRUE OR operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT')
    )
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(requester, ''))
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_agent, ''))
), hot_counts /* Counts alone first (cheap), then details only for the few hot periods. */ AS (
  SELECT
    bucket,
    remote_ip,
    period,
    COUNT(*) AS n
  FROM req
  GROUP BY
    bucket,
    remote_ip,
    period
  HAVING
    COUNT(*) > 600
), all_hot_ip AS (
  SELECT
    h.bucket,
    h.remote_ip,
    h.period,
    h.n,
    COALESCE(
      NULLIF(
        REGEXP_EXTRACT(MAX(r.requester), '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'),
        ''
      ),
      COALESCE(MAX(r.requester), '')
    ) AS actor, /* Who and from where, for routine jobs: a role whatever its session, from its own */ /* address or from any private (VPC) address; anonymous callers by address alone. */
    CASE
      WHEN REGEXP_LIKE(h.remote_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|f[cd][0-9a-f]{0,2}:)')
      THEN 'private'
      ELSE h.remote_ip
    END AS place
  FROM hot_counts AS h
  JOIN req AS r
    ON r.bucket = h.bucket AND r.remote_ip = h.remote_ip AND r.period = h.period
  GROUP BY
    h.bucket,
    h.remote_ip,
    h.period,
    h.n
), hot_ip AS (
  SELECT
    h.bucket,
    h.remote_ip,
    h.period
  FROM all_hot_ip AS h
  WHERE
    h.period >= DATE_ADD('MINUTE', -5, CAST('2026-11-16 00:00:00' AS TIMESTAMP))
    AND NOT EXISTS(
      SELECT
        1
      FROM all_hot_ip AS o
      WHERE
        o.bucket = h.bucket
        AND o.actor = h.actor
        AND o.actor <> ''
        AND o.place = h.place
        AND o.n * 2 >= h.n
        AND DATE_TRUNC('DAY', o.period) <> DATE_TRUNC('DAY', h.period)
        AND ABS(
          (
            (
              HOUR(o.period) * 60 + MINUTE(o.period)
            ) - (
              HOUR(h.period) * 60 + MINUTE(h.period)
            ) + 720 + 1440
          ) % 1440 - 720
        ) <= 60
    )
), hot_bucket AS (
  SELECT
    bucket,
    period,
    APPROX_DISTINCT(remote_ip) AS ips
  FROM req
  WHERE
    time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
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
  WHERE
    r.time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
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
  WHERE
    r.time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
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
