WITH window_reads AS NOT MATERIALIZED (
  /* An assumed role is known by its role, not by the session (names change every hour on */
  /* many platforms): arn:aws:sts::ACCOUNT:assumed-role/ROLE. */
  SELECT
    bucket,
    remote_ip,
    COALESCE(
      NULLIF(REGEXP_EXTRACT(requester, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'), ''),
      COALESCE(requester, '')
    ) AS principal_key,
    requester,
    bytes_sent,
    key,
    time,
    request_id
  FROM s3_access AS s3_access
  WHERE
    time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT', 'REST.COPY.OBJECT_GET')
    AND http_status < 400
    AND (
      NOT requester IS NULL OR NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), bucket)
    )
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(requester, ''))
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_agent, ''))
), busy_ips /* Counts alone first (cheap even when every row is its own source), then history and */ /* details only for the sources that read enough: an address that did not read enough in */ /* total did not as any one principal either, so principals are keyed only on those. */ AS (
  SELECT
    bucket,
    remote_ip
  FROM window_reads
  GROUP BY
    1,
    2
  HAVING
    COUNT(*) >= 5
), candidates AS (
  SELECT
    r.bucket,
    r.remote_ip,
    r.principal_key
  FROM window_reads AS r
  JOIN busy_ips AS b
    ON b.bucket = r.bucket AND b.remote_ip = r.remote_ip
  GROUP BY
    1,
    2,
    3
  HAVING
    COUNT(*) >= 5
), history AS NOT MATERIALIZED (
  SELECT
    bucket,
    remote_ip,
    COALESCE(
      NULLIF(REGEXP_EXTRACT(requester, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'), ''),
      COALESCE(requester, '')
    ) AS principal_key,
    time
  FROM s3_access AS s3_access
  WHERE
    time >= (
      CAST('2026-11-16 00:00:00' AS TIMESTAMP) + INTERVAL (-14) DAY
    )
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
), bucket_start AS (
  SELECT
    bucket,
    MIN(time) AS data_start
  FROM history
  GROUP BY
    bucket
), ip_first AS (
  SELECT
    h.bucket,
    h.remote_ip,
    MIN(h.time) AS first_time
  FROM history AS h
  JOIN (
    SELECT DISTINCT
      bucket,
      remote_ip
    FROM candidates
  ) AS c
    ON c.bucket = h.bucket AND c.remote_ip = h.remote_ip
  GROUP BY
    h.bucket,
    h.remote_ip
), principal_first AS (
  SELECT
    h.bucket,
    h.principal_key,
    MIN(h.time) AS first_time
  FROM history AS h
  JOIN (
    SELECT DISTINCT
      bucket,
      principal_key
    FROM candidates
    WHERE
      principal_key <> ''
  ) AS c
    ON c.bucket = h.bucket AND c.principal_key = h.principal_key
  GROUP BY
    h.bucket,
    h.principal_key
), reads AS (
  SELECT
    r.bucket,
    r.remote_ip,
    r.principal_key,
    MIN(r.requester) AS principal,
    COUNT(*) AS n,
    SUM(COALESCE(r.bytes_sent, 0)) AS b,
    APPROX_COUNT_DISTINCT(r.key) AS keys,
    MIN(r.time) AS first_time,
    MAX(r.time) AS last_time,
    MIN(r.key) AS key_a,
    MAX(r.key) AS key_b,
    MIN(r.request_id) AS request_a,
    MAX(r.request_id) AS request_b
  FROM window_reads AS r
  JOIN candidates AS c
    ON c.bucket = r.bucket
    AND c.remote_ip = r.remote_ip
    AND c.principal_key = r.principal_key
  GROUP BY
    1,
    2,
    3
), judged AS (
  SELECT
    r.*,
    i.first_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND i.first_time >= (
      s.data_start + INTERVAL 24 HOUR
    )
    AND NOT (
      NOT p.first_time IS NULL
      AND NOT (
        p.first_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
        AND p.first_time >= (
          s.data_start + INTERVAL 24 HOUR
        )
      )
      AND REGEXP_MATCHES(r.remote_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|f[cd][0-9a-f]{0,2}:)')
    ) AS new_ip, /* A known principal's workers come and go inside the VPC: a new private address */ /* (RFC 1918, IPv6 unique local) is not a new place. */
    COALESCE(
      p.first_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
      AND p.first_time >= (
        s.data_start + INTERVAL 24 HOUR
      ),
      FALSE
    ) AS new_principal
  FROM reads AS r
  JOIN bucket_start AS s
    ON s.bucket = r.bucket
  JOIN ip_first AS i
    ON i.bucket = r.bucket AND i.remote_ip = r.remote_ip
  LEFT JOIN principal_first AS p
    ON p.bucket = r.bucket AND p.principal_key = r.principal_key
)
SELECT
  bucket,
  remote_ip AS source_ip,
  principal,
  first_time AS first_seen,
  last_time AS last_seen,
  n AS event_count,
  b AS bytes,
  keys AS objects,
  CASE
    WHEN new_ip AND new_principal
    THEN 'IP and principal'
    WHEN new_ip
    THEN 'IP'
    ELSE 'principal'
  END AS new_what,
  [key_a, key_b] AS sample_keys,
  [request_a, request_b] AS sample_request_ids
FROM judged
WHERE
  (
    new_ip OR new_principal
  ) AND n >= 5
