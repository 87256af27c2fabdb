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
    time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND bytes_sent > 0
    AND /* CloudFront filling its edge caches (origin access control signs as the service; an */ /* origin access identity is a CloudFront user): the bytes go to the CDN, not a person. */ COALESCE(requester, '') <> 'svc:cloudfront.amazonaws.com'
    AND COALESCE(requester, '') NOT LIKE '%CloudFront Origin Access Identity%'
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(requester, ''))
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_agent, ''))
), totals /* First the sums alone (cheap), then details only for the few heavy periods. */ AS (
  SELECT
    bucket,
    remote_ip,
    principal_key,
    period
  FROM reads
  GROUP BY
    bucket,
    remote_ip,
    principal_key,
    period
  HAVING
    SUM(bytes_sent) >= CASE
      WHEN CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), bucket)
      THEN 2147483648
      ELSE 268435456
    END
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
