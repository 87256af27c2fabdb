WITH deletes AS (
  SELECT
    'access log' AS origin,
    bucket,
    remote_ip AS source_ip,
    COALESCE(requester, '') AS principal_key,
    operation AS action,
    key,
    request_id,
    time,
    COALESCE(object_size, 0) AS size,
    CAST(1 AS BIGINT) AS objects
  FROM s3_access AS s3_access
  WHERE
    time >= (
      CAST('2026-11-16 00:00:00' AS TIMESTAMP) + INTERVAL (-14) DAY
    )
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT', 'REST.DELETE.BUCKET')
    AND (
      http_status < 300 OR http_status IS NULL
    )
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(requester, ''))
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_agent, ''))
  UNION ALL
  SELECT
    'cloudtrail' AS origin,
    COALESCE(bucket_name, '') AS bucket,
    source_ip_address AS source_ip,
    COALESCE(user_identity_arn, '') AS principal_key,
    event_name AS action,
    object_key AS key,
    request_id,
    event_time AS time,
    CAST(0 AS BIGINT) AS size,
    CASE
      WHEN event_name = 'DeleteObjects'
      THEN CASE
        WHEN 1000 IS NULL
        OR CASE
          WHEN 1 IS NULL
          OR CAST(FLOOR(COALESCE(bytes_transferred_in, 0) / 128) AS BIGINT) IS NULL
          THEN NULL
          ELSE GREATEST(1, CAST(FLOOR(COALESCE(bytes_transferred_in, 0) / 128) AS BIGINT))
        END IS NULL
        THEN NULL
        ELSE LEAST(
          1000,
          CASE
            WHEN 1 IS NULL
            OR CAST(FLOOR(COALESCE(bytes_transferred_in, 0) / 128) AS BIGINT) IS NULL
            THEN NULL
            ELSE GREATEST(1, CAST(FLOOR(COALESCE(bytes_transferred_in, 0) / 128) AS BIGINT))
          END
        )
      END
      ELSE CAST(1 AS BIGINT)
    END AS objects /* CloudTrail does not record the keys of a DeleteObjects call (up to 1,000 of them): */ /* estimate them from the request body, <Object><Key>...</Key></Object> per key. */
  FROM cloudtrail AS cloudtrail
  WHERE
    event_time >= (
      CAST('2026-11-16 00:00:00' AS TIMESTAMP) + INTERVAL (-14) DAY
    )
    AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND event_source = 's3.amazonaws.com'
    AND NULLIF(error_code, '') IS NULL
    AND event_name IN ('DeleteObject', 'DeleteObjects', 'DeleteBucket')
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_identity_arn, ''))
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_agent, ''))
), periods AS (
  SELECT
    origin,
    bucket,
    source_ip,
    principal_key,
    TO_TIMESTAMP(FLOOR(EPOCH(time) / (
      60 * 60
    )) * (
      60 * 60
    )) AS period,
    COUNT(*) AS n,
    SUM(objects) AS deleted,
    COUNT_IF(COALESCE(action IN ('DeleteBucket', 'REST.DELETE.BUCKET'), FALSE)) AS drastic,
    SUM(size) AS b,
    MIN(action) AS action_a,
    MAX(action) AS action_b,
    MIN(time) AS first_time,
    MAX(time) AS last_time,
    MIN(key) AS key_a,
    MAX(key) AS key_b,
    MIN(request_id) AS request_a
  FROM deletes
  GROUP BY
    1,
    2,
    3,
    4,
    5
  HAVING
    SUM(objects) >= 50
    OR COUNT_IF(COALESCE(action IN ('DeleteBucket', 'REST.DELETE.BUCKET'), FALSE)) > 0
), placed AS NOT MATERIALIZED (
  SELECT
    *,
    COALESCE(
      NULLIF(
        REGEXP_EXTRACT(principal_key, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'),
        ''
      ),
      principal_key
    ) AS actor, /* Who and from where, for routine jobs: a role whatever its session, from its own */ /* address or from any private (VPC) address. */
    CASE
      WHEN REGEXP_MATCHES(
        COALESCE(source_ip, ''),
        '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|f[cd][0-9a-f]{0,2}:)'
      )
      THEN 'private'
      ELSE COALESCE(source_ip, '')
    END AS place
  FROM periods
), reported AS (
  SELECT
    h.*
  FROM placed AS h
  WHERE
    h.last_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND (
      h.drastic > 0
      OR NOT EXISTS(
        SELECT
          1
        FROM placed AS o
        WHERE
          o.origin = h.origin
          AND o.bucket = h.bucket
          AND o.actor = h.actor
          AND o.place = h.place
          AND o.drastic = 0
          AND o.deleted * 2 >= h.deleted
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
    )
)
SELECT
  NULLIF(bucket, '') AS bucket,
  source_ip,
  NULLIF(principal_key, '') AS principal,
  origin,
  MIN(first_time) AS first_seen,
  MAX(last_time) AS last_seen,
  SUM(n) AS event_count,
  SUM(deleted) AS objects_deleted,
  SUM(b) AS bytes,
  SUM(drastic) AS drastic_changes,
  ARRAY_TO_STRING(LIST_DISTINCT(ARRAY_AGG(action_a) || ARRAY_AGG(action_b)), ', ') AS operation_names,
  ARRAY_AGG(DISTINCT key_a) AS sample_keys,
  ARRAY_AGG(DISTINCT key_b) AS sample_keys_more,
  ARRAY_AGG(DISTINCT request_a) AS sample_request_ids
FROM reported
GROUP BY
  origin,
  bucket,
  source_ip,
  principal_key
