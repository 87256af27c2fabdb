SELECT
  bucket_name AS bucket,
  source_ip_address AS source_ip,
  user_identity_arn AS principal,
  event_name,
  event_time,
  request_parameters,
  COALESCE(request_id, event_id) AS request_id
FROM cloudtrail AS cloudtrail
WHERE
  event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND event_source = 's3.amazonaws.com'
  AND event_name IN ('PutBucketVersioning', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
  AND NULLIF(error_code, '') IS NULL
  AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_identity_arn, ''))
ORDER BY
  event_time,
  request_id
