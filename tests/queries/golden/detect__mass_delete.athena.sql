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
    COALESCE(object_size, 0) AS size
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
    AND operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT', 'REST.DELETE.BUCKET')
    AND (
      http_status < 300 OR http_status IS NULL
    )
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(requester, ''))
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_agent, ''))
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
    CAST(0 AS BIGINT) AS size
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
    AND event_name IN ('DeleteObject', 'DeleteObjects', 'DeleteBucket')
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_identity_arn, ''))
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_agent, ''))
), periods AS (
  SELECT
    origin,
    bucket,
    source_ip,
    principal_key,
    FROM_UNIXTIME(FLOOR(TO_UNIXTIME(time) / (
      60 * 60
    )) * (
      60 * 60
    )) AS period,
    COUNT(*) AS n,
    COUNT_IF(action IN ('DeleteBucket', 'REST.DELETE.BUCKET')) AS drastic,
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
    COUNT(*) >= 50 OR COUNT_IF(action IN ('DeleteBucket', 'REST.DELETE.BUCKET')) > 0
)
SELECT
  NULLIF(bucket, '') AS bucket,
  source_ip,
  NULLIF(principal_key, '') AS principal,
  origin,
  MIN(first_time) AS first_seen,
  MAX(last_time) AS last_seen,
  SUM(n) AS event_count,
  SUM(b) AS bytes,
  SUM(drastic) AS drastic_changes,
  ARRAY_JOIN(ARRAY_DISTINCT(ARRAY_AGG(action_a) || ARRAY_AGG(action_b)), ', ') AS operation_names,
  ARRAY_AGG(DISTINCT key_a) AS sample_keys,
  ARRAY_AGG(DISTINCT key_b) AS sample_keys_more,
  ARRAY_AGG(DISTINCT request_a) AS sample_request_ids
FROM periods
GROUP BY
  origin,
  bucket,
  source_ip,
  principal_key
