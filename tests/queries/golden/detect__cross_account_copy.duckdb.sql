WITH trail AS NOT MATERIALIZED (
  SELECT
    *,
    LIST_FILTER(
      COALESCE(resource_account_ids, CAST([] AS TEXT[])),
      LAMBDA a : NOT a IS NULL
      AND a <> COALESCE(recipient_account_id, '')
      AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), a)
    )[1] AS foreign_resource_account /* The first resource (a bucket) owned by an account that is not ours: a copy into it */ /* leaves the account (resources[].accountId, kept as resource_account_ids). */
  FROM cloudtrail AS cloudtrail
  WHERE
    event_time >= (
      CAST('2026-11-16 00:00:00' AS TIMESTAMP) + INTERVAL (-14) DAY
    )
    AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND event_source = 's3.amazonaws.com'
    AND NULLIF(error_code, '') IS NULL
), moves AS (
  SELECT
    CASE
      WHEN event_name IN ('CopyObject', 'UploadPartCopy')
      AND NOT foreign_resource_account IS NULL
      THEN COALESCE(
        NULLIF(
          REGEXP_EXTRACT(request_parameters, '"x-amz-copy-source"\s*:\s*"/?([^/"%]+)', 1),
          ''
        ),
        bucket_name
      )
      ELSE bucket_name
    END AS bucket, /* A copy names the destination as bucketName; the bucket the data left is the copy */ /* source (x-amz-copy-source: "[/]bucket/key", maybe URL-encoded). */
    source_ip_address AS source_ip,
    COALESCE(user_identity_arn, user_identity_account_id) AS principal,
    CASE
      WHEN event_name IN ('CopyObject', 'UploadPartCopy')
      AND NOT foreign_resource_account IS NULL
      THEN foreign_resource_account
      ELSE user_identity_account_id
    END AS account,
    CASE
      WHEN event_name = 'PutBucketReplication'
      THEN 'replication configured'
      WHEN event_name IN ('CopyObject', 'UploadPartCopy')
      AND NOT foreign_resource_account IS NULL
      THEN 'copied into another account''s bucket'
      ELSE 'read by another account'
    END AS kind,
    event_name,
    object_key AS key,
    COALESCE(request_id, event_id) AS request_id,
    COALESCE(bytes_transferred_out, 0) AS bytes_out,
    event_time AS time
  FROM trail
  WHERE
    NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_identity_arn, ''))
    AND (
      event_name = 'PutBucketReplication'
      OR (
        event_name IN ('CopyObject', 'UploadPartCopy')
        AND NOT foreign_resource_account IS NULL
      )
      OR (
        event_name IN ('GetObject', 'CopyObject', 'UploadPartCopy')
        AND NOT user_identity_account_id IS NULL
        AND /* Anonymous callers carry accountId ANONYMOUS_PRINCIPAL: nobody's account. */ user_identity_account_id <> 'ANONYMOUS_PRINCIPAL'
        AND user_identity_account_id <> COALESCE(recipient_account_id, '')
        AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), user_identity_account_id)
        AND COALESCE(user_identity_type, '') <> 'AWSService'
      )
    )
  UNION ALL
  SELECT
    bucket,
    remote_ip AS source_ip,
    requester AS principal,
    REGEXP_EXTRACT(requester, '^arn:aws[a-z-]*:(iam|sts)::([0-9]{12}):', 2) AS account,
    'copied by another account' AS kind,
    operation AS event_name,
    key,
    request_id,
    COALESCE(bytes_sent, 0) AS bytes_out,
    time
  FROM s3_access AS s3_access
  WHERE
    time >= (
      CAST('2026-11-16 00:00:00' AS TIMESTAMP) + INTERVAL (-14) DAY
    )
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND operation IN ('REST.COPY.OBJECT_GET', 'REST.COPY.PART_GET')
    AND http_status < 300
    AND ARRAY_LENGTH(CAST([] AS TEXT[])) > 0
    AND NOT ARRAY_CONTAINS(
      CAST([] AS TEXT[]),
      COALESCE(REGEXP_EXTRACT(requester, '^arn:aws[a-z-]*:(iam|sts)::([0-9]{12}):', 2), '')
    )
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(requester, ''))
), placed AS NOT MATERIALIZED (
  SELECT
    *,
    COALESCE(
      NULLIF(REGEXP_EXTRACT(principal, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'), ''),
      COALESCE(principal, '')
    ) AS actor, /* Who and from where, for routine transfers: a role whatever its session, from its */ /* own address or from any private (VPC) address. */
    CASE
      WHEN REGEXP_MATCHES(
        COALESCE(source_ip, ''),
        '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|f[cd][0-9a-f]{0,2}:)'
      )
      THEN 'private'
      ELSE COALESCE(source_ip, '')
    END AS place,
    HOUR(time) * 60 + MINUTE(time) AS minute_of_day
  FROM moves
), days AS (
  SELECT
    bucket,
    actor,
    place,
    kind,
    MAKE_TIMESTAMPTZ(EPOCH_US(time) // 86400000000 * 86400000000) AS day,
    MIN(minute_of_day) AS first_minute,
    MAX(minute_of_day) AS last_minute
  FROM placed
  GROUP BY
    1,
    2,
    3,
    4,
    5
), routine_checked AS (
  SELECT
    m.*,
    m.kind <> 'replication configured'
    AND m.actor <> ''
    AND EXISTS(
      SELECT
        1
      FROM days AS d
      WHERE
        d.bucket = m.bucket
        AND d.actor = m.actor
        AND d.place = m.place
        AND d.kind = m.kind
        AND d.day <> MAKE_TIMESTAMPTZ(EPOCH_US(m.time) // 86400000000 * 86400000000)
        AND m.minute_of_day BETWEEN d.first_minute - 60 AND d.last_minute + 60
    ) AS routine
  FROM placed AS m
  WHERE
    m.time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
)
SELECT
  bucket,
  source_ip,
  principal,
  kind,
  MAX(account) AS account,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen,
  COUNT(*) AS event_count,
  SUM(bytes_out) AS bytes,
  COUNT(DISTINCT key) AS objects,
  ARRAY_TO_STRING(ARRAY_AGG(DISTINCT event_name), ', ') AS operation_names,
  ARRAY_SLICE(ARRAY_AGG(DISTINCT key), 1, 10) AS sample_keys,
  ARRAY_SLICE(ARRAY_AGG(DISTINCT request_id), 1, 10) AS sample_request_ids
FROM routine_checked
WHERE
  NOT routine
GROUP BY
  bucket,
  source_ip,
  principal,
  kind
HAVING
  COUNT(DISTINCT key) >= 1 OR kind = 'replication configured'
