WITH changes AS NOT MATERIALIZED (
  SELECT
    COALESCE(bucket_name, request_parameters ->> '$.bucketName', request_parameters ->> '$.name') AS target,
    event_source,
    source_ip_address AS source_ip,
    user_identity_arn AS principal,
    event_name,
    event_time,
    error_code,
    request_id,
    event_id,
    CASE
      WHEN event_source = 's3.amazonaws.com'
      AND event_name = 'PutBucketLogging'
      AND STRPOS(COALESCE(request_parameters, ''), '"BucketLoggingStatus"') > 0
      AND STRPOS(request_parameters, '"LoggingEnabled"') = 0
      THEN 'server access logging disabled'
      WHEN event_source = 'cloudtrail.amazonaws.com' AND event_name = 'StopLogging'
      THEN 'trail stopped'
      WHEN event_source = 'cloudtrail.amazonaws.com' AND event_name = 'DeleteTrail'
      THEN 'trail deleted'
      WHEN event_source = 'cloudtrail.amazonaws.com' AND event_name = 'UpdateTrail'
      THEN 'trail changed'
      WHEN event_source = 'cloudtrail.amazonaws.com'
      AND event_name IN ('PutEventSelectors', 'PutInsightSelectors')
      THEN 'trail event selectors changed'
    END AS change
  FROM cloudtrail AS cloudtrail
  WHERE
    event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND event_name IN (
      'PutBucketLogging',
      'StopLogging',
      'DeleteTrail',
      'UpdateTrail',
      'PutEventSelectors',
      'PutInsightSelectors'
    )
    AND (
      TRUE OR NULLIF(error_code, '') IS NULL
    )
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_identity_arn, ''))
)
SELECT
  CASE WHEN event_source = 's3.amazonaws.com' THEN target END AS bucket,
  source_ip,
  principal,
  MIN(event_time) AS first_seen,
  MAX(event_time) AS last_seen,
  COUNT(*) AS event_count,
  CAST(0 AS BIGINT) AS bytes,
  ARRAY_TO_STRING(ARRAY_AGG(DISTINCT change), '; ') AS changes,
  ARRAY_TO_STRING(ARRAY_AGG(DISTINCT COALESCE(target, '-')), ', ') AS targets,
  COUNT_IF(COALESCE(NOT NULLIF(error_code, '') IS NULL, FALSE)) AS refused,
  CAST([] AS TEXT[]) AS sample_keys,
  ARRAY_SLICE(ARRAY_AGG(DISTINCT COALESCE(request_id, event_id)), 1, 10) AS sample_request_ids
FROM changes
WHERE
  NOT change IS NULL
GROUP BY
  CASE WHEN event_source = 's3.amazonaws.com' THEN target END,
  source_ip,
  principal
