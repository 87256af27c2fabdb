SELECT
  COALESCE(bucket_name, request_parameters ->> '$.bucketName') AS bucket,
  source_ip_address AS source_ip,
  user_identity_arn AS principal,
  event_name,
  event_time,
  recipient_account_id,
  CASE WHEN event_name = 'PutBucketPolicy' THEN request_parameters END AS request_parameters,
  COALESCE(request_id, event_id) AS request_id,
  CASE
    WHEN event_name IN ('PutBucketAcl', 'PutObjectAcl')
    AND REGEXP_MATCHES(
      request_parameters,
      'acs\.amazonaws\.com/groups/global/(AllUsers|AuthenticatedUsers)|"x-amz-acl"\s*:\s*\[?\s*"(public-read|public-read-write|authenticated-read)"'
    )
    THEN 'ACL grants public access'
    WHEN event_name IN ('DeleteBucketPublicAccessBlock', 'DeleteAccountPublicAccessBlock')
    THEN 'public access block removed'
    WHEN event_name IN ('PutBucketPublicAccessBlock', 'PutAccountPublicAccessBlock')
    AND REGEXP_MATCHES(
      request_parameters,
      '"(BlockPublicAcls|IgnorePublicAcls|BlockPublicPolicy|RestrictPublicBuckets)"\s*:\s*false'
    )
    THEN 'public access block relaxed'
  END AS change
FROM cloudtrail AS cloudtrail
WHERE
  event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND event_source = 's3.amazonaws.com'
  AND NULLIF(error_code, '') IS NULL
  AND event_name IN (
    'PutBucketPolicy',
    'PutBucketAcl',
    'PutObjectAcl',
    'DeleteBucketPublicAccessBlock',
    'PutBucketPublicAccessBlock',
    'DeleteAccountPublicAccessBlock',
    'PutAccountPublicAccessBlock'
  )
  AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_identity_arn, ''))
ORDER BY
  event_time,
  request_id
