WITH calls AS (
  SELECT
    bucket,
    remote_ip AS source_ip,
    COALESCE(requester, '') AS principal_key,
    operation AS action,
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
      operation LIKE 'REST.HEAD.%'
      OR (
        operation LIKE 'REST.GET.%'
        AND NOT operation IN ('REST.GET.OBJECT', 'REST.GET.OBJECT_TORRENT')
      )
    )
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(requester, ''))
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_agent, ''))
  UNION ALL
  SELECT
    COALESCE(bucket_name, '') AS bucket,
    source_ip_address AS source_ip,
    COALESCE(user_identity_arn, '') AS principal_key,
    event_name AS action,
    object_key AS key,
    request_id,
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
    AND management_event
    AND (
      event_name LIKE 'Get%' OR event_name LIKE 'List%' OR event_name LIKE 'Head%'
    )
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_identity_arn, ''))
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_agent, ''))
), periods AS (
  SELECT
    bucket,
    source_ip,
    principal_key,
    FROM_UNIXTIME(FLOOR(TO_UNIXTIME(time) / (
      60 * 60
    )) * (
      60 * 60
    )) AS period,
    COUNT(*) AS n,
    COUNT(DISTINCT action) AS actions,
    MIN(action) AS action_a,
    MAX(action) AS action_b,
    MIN(time) AS first_time,
    MAX(time) AS last_time,
    MIN(key) AS key_a,
    MAX(key) AS key_b,
    MIN(request_id) AS request_a
  FROM calls
  GROUP BY
    1,
    2,
    3,
    4
  HAVING
    COUNT(*) >= 200 AND COUNT(DISTINCT action) >= 1
)
SELECT
  NULLIF(bucket, '') AS bucket,
  source_ip,
  NULLIF(principal_key, '') AS principal,
  MIN(first_time) AS first_seen,
  MAX(last_time) AS last_seen,
  SUM(n) AS event_count,
  CAST(0 AS BIGINT) AS bytes,
  MAX(actions) AS operations,
  ARRAY_JOIN(ARRAY_DISTINCT(ARRAY_AGG(action_a) || ARRAY_AGG(action_b)), ', ') AS operation_names,
  ARRAY_AGG(DISTINCT key_a) AS sample_keys,
  ARRAY_AGG(DISTINCT key_b) AS sample_keys_more,
  ARRAY_AGG(DISTINCT request_a) AS sample_request_ids
FROM periods
GROUP BY
  bucket,
  source_ip,
  principal_key
