WITH events AS (
  SELECT
    bucket,
    remote_ip AS source_ip,
    requester AS principal,
    CASE
      WHEN operation IN ('REST.PUT.OBJECT', 'REST.POST.UPLOAD', 'REST.COPY.OBJECT')
      AND REGEXP_LIKE(
        LOWER(COALESCE(key, '')),
        '(ransom|decrypt|how[_ -]?to[_ -]?(recover|restore|decrypt|get[_ -]?back)|(recover|restore)[_ -]?(your|my|all)[_ -]?(files|data)|your[_ -]?(files|data)[_ -]?(are|were|is)|files[_ -]?encrypted|\.(ransom|locked|encrypted)$)'
      )
      THEN 'note'
      WHEN operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT')
      THEN 'delete'
      WHEN operation IN ('REST.PUT.OBJECT', 'REST.COPY.OBJECT', 'REST.POST.UPLOAD')
      THEN 'write'
    END AS action,
    key,
    request_id,
    time
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
      http_status < 300 OR http_status IS NULL
    )
    AND operation IN (
      'REST.PUT.OBJECT',
      'REST.POST.UPLOAD',
      'REST.COPY.OBJECT',
      'REST.DELETE.OBJECT',
      'BATCH.DELETE.OBJECT'
    )
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(requester, ''))
  UNION ALL
  SELECT
    bucket_name AS bucket,
    source_ip_address AS source_ip,
    user_identity_arn AS principal,
    CASE
      WHEN event_name IN ('PutObject', 'CopyObject', 'CompleteMultipartUpload')
      AND REGEXP_LIKE(
        LOWER(COALESCE(object_key, '')),
        '(ransom|decrypt|how[_ -]?to[_ -]?(recover|restore|decrypt|get[_ -]?back)|(recover|restore)[_ -]?(your|my|all)[_ -]?(files|data)|your[_ -]?(files|data)[_ -]?(are|were|is)|files[_ -]?encrypted|\.(ransom|locked|encrypted)$)'
      )
      THEN 'note'
      WHEN event_name IN ('DeleteObject', 'DeleteObjects')
      THEN 'delete'
      WHEN event_name IN ('PutObject', 'CopyObject', 'CompleteMultipartUpload')
      THEN 'write'
    END AS action,
    object_key AS key,
    COALESCE(request_id, event_id) AS request_id,
    event_time AS time
  FROM (
    SELECT
      *
    FROM s3forensics.cloudtrail
    WHERE
      "date" BETWEEN '2026/11/16' AND '2026/11/22'
  ) AS cloudtrail
  WHERE
    event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND event_source = 's3.amazonaws.com'
    AND NULLIF(error_code, '') IS NULL
    AND event_name IN (
      'PutObject',
      'CopyObject',
      'CompleteMultipartUpload',
      'DeleteObject',
      'DeleteObjects'
    )
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_identity_arn, ''))
), actors AS (
  SELECT
    bucket,
    COALESCE(principal, source_ip, '-') AS actor,
    COUNT_IF(action = 'note') AS notes,
    COUNT_IF(action IN ('delete', 'write')) AS destructive
  FROM events
  GROUP BY
    bucket,
    COALESCE(principal, source_ip, '-')
  HAVING
    COUNT_IF(action = 'note') > 0 AND COUNT_IF(action IN ('delete', 'write')) >= 10
)
SELECT
  e.bucket,
  e.source_ip,
  e.principal,
  MIN(e.time) AS first_seen,
  MAX(e.time) AS last_seen,
  COUNT(*) AS event_count,
  CAST(0 AS BIGINT) AS bytes,
  MAX(a.destructive) AS destructive,
  SLICE(ARRAY_AGG(DISTINCT e.key), 1, 10) AS sample_keys,
  SLICE(ARRAY_AGG(DISTINCT e.request_id), 1, 10) AS sample_request_ids
FROM events AS e
JOIN actors AS a
  ON a.bucket = e.bucket AND a.actor = COALESCE(e.principal, e.source_ip, '-')
WHERE
  e.action = 'note'
GROUP BY
  e.bucket,
  e.source_ip,
  e.principal
