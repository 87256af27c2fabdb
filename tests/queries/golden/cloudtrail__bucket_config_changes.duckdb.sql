SELECT
  event_time,
  bucket_name,
  event_name,
  user_identity_arn,
  source_ip_address,
  user_agent,
  error_code,
  request_parameters,
  event_id
FROM cloudtrail AS cloudtrail
WHERE
  event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND event_source = 's3.amazonaws.com'
  AND ARRAY_CONTAINS(
    CAST([
      'PutBucketPolicy',
      'DeleteBucketPolicy',
      'PutBucketAcl',
      'PutBucketPublicAccessBlock',
      'DeleteBucketPublicAccessBlock',
      'PutAccountPublicAccessBlock',
      'DeleteAccountPublicAccessBlock',
      'PutBucketLogging',
      'PutBucketLifecycle',
      'PutBucketLifecycleConfiguration',
      'DeleteBucketLifecycle',
      'PutBucketReplication',
      'DeleteBucketReplication',
      'PutBucketOwnershipControls',
      'DeleteBucketOwnershipControls',
      'PutBucketWebsite',
      'DeleteBucketWebsite',
      'PutBucketVersioning',
      'PutBucketEncryption',
      'DeleteBucketEncryption'
    ] AS TEXT[]),
    event_name
  )
ORDER BY
  event_time,
  event_id
