WITH reads AS (
  SELECT
    bucket,
    remote_ip,
    COALESCE(requester, '') AS principal_key,
    key,
    request_id,
    bytes_sent,
    time,
    FROM_UNIXTIME(FLOOR(TO_UNIXTIME(time) / (
      60 * 60
    )) * (
      60 * 60
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
    AND bytes_sent > 0
    AND /* CloudFront filling its edge caches (origin access control signs as the service; an */ /* origin access identity is a CloudFront user): the bytes go to the CDN, not a person. */ COALESCE(requester, '') <> 'svc:cloudfront.amazonaws.com'
    AND COALESCE(requester, '') NOT LIKE '%CloudFront Origin Access Identity%'
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(requester, ''))
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_agent, ''))
), heavy_ips /* First the sums alone (cheap), then details only for the few heavy periods. An address */ /* that did not take enough in a period did not as any one principal either, so principals */ /* are keyed only on the heavy addresses. */ AS (
  SELECT
    bucket,
    remote_ip,
    period
  FROM reads
  GROUP BY
    bucket,
    remote_ip,
    period
  HAVING
    SUM(bytes_sent) >= CASE
      WHEN CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), bucket)
      THEN 2147483648
      ELSE 268435456
    END
), all_heavy AS (
  SELECT
    r.bucket,
    r.remote_ip,
    r.principal_key,
    r.period,
    COALESCE(
      NULLIF(
        REGEXP_EXTRACT(r.principal_key, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'),
        ''
      ),
      r.principal_key
    ) AS actor, /* Who and from where, for routine jobs: a role whatever its session, from its own */ /* address or from any private (VPC) address. */
    CASE
      WHEN REGEXP_LIKE(r.remote_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|f[cd][0-9a-f]{0,2}:)')
      THEN 'private'
      ELSE r.remote_ip
    END AS place
  FROM reads AS r
  JOIN heavy_ips AS i
    ON i.bucket = r.bucket AND i.remote_ip = r.remote_ip AND i.period = r.period
  GROUP BY
    r.bucket,
    r.remote_ip,
    r.principal_key,
    r.period
  HAVING
    SUM(r.bytes_sent) >= CASE
      WHEN CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), r.bucket)
      THEN 2147483648
      ELSE 268435456
    END
), totals AS (
  SELECT
    h.bucket,
    h.remote_ip,
    h.principal_key,
    h.period
  FROM all_heavy AS h
  WHERE
    h.period >= DATE_ADD('MINUTE', -60, CAST('2026-11-16 00:00:00' AS TIMESTAMP))
    AND NOT EXISTS(
      SELECT
        1
      FROM all_heavy AS o
      WHERE
        o.bucket = h.bucket
        AND o.actor = h.actor
        AND o.place = h.place
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
), heavy AS (
  SELECT
    r.bucket,
    r.remote_ip,
    r.principal_key,
    r.period,
    COUNT(*) AS n,
    SUM(r.bytes_sent) AS b,
    COUNT(DISTINCT r.key) AS keys,
    MIN(r.time) AS first_time,
    MAX(r.time) AS last_time,
    MIN(r.key) AS key_a,
    MAX(r.key) AS key_b,
    MIN(r.request_id) AS request_a
  FROM reads AS r
  JOIN totals AS t
    ON r.bucket = t.bucket
    AND r.remote_ip = t.remote_ip
    AND r.principal_key = t.principal_key
    AND r.period = t.period
  WHERE
    r.time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  GROUP BY
    r.bucket,
    r.remote_ip,
    r.principal_key,
    r.period
)
SELECT
  bucket,
  remote_ip AS source_ip,
  NULLIF(principal_key, '') AS principal,
  MIN(first_time) AS first_seen,
  MAX(last_time) AS last_seen,
  SUM(n) AS event_count,
  SUM(b) AS bytes,
  SUM(keys) AS objects,
  COUNT(*) AS periods,
  ARRAY_AGG(DISTINCT key_a) AS sample_keys,
  ARRAY_AGG(DISTINCT key_b) AS sample_keys_more,
  ARRAY_AGG(DISTINCT request_a) AS sample_request_ids
FROM heavy
GROUP BY
  bucket,
  remote_ip,
  principal_key
