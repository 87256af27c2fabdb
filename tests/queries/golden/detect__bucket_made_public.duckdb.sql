WITH changes AS (
  SELECT
    COALESCE(bucket_name, request_parameters ->> '$.bucketName') AS bucket,
    source_ip_address AS source_ip,
    user_identity_arn AS principal,
    event_name,
    event_time,
    request_id,
    event_id,
    CASE
      WHEN event_name = 'PutBucketPolicy'
      AND REGEXP_MATCHES(request_parameters, '"Principal"\s*:\s*(\{\s*"AWS"\s*:\s*)?\[?\s*"\*"')
      THEN 'policy grants Principal "*"'
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
)
SELECT
  bucket,
  source_ip,
  principal,
  MIN(event_time) AS first_seen,
  MAX(event_time) AS last_seen,
  COUNT(*) AS event_count,
  CAST(0 AS BIGINT) AS bytes,
  ARRAY_TO_STRING(ARRAY_AGG(DISTINCT change), '; ') AS changes,
  ARRAY_TO_STRING(ARRAY_AGG(DISTINCT event_name), ', ') AS operation_names,
  CAST([] AS TEXT[]) AS sample_keys,
  ARRAY_SLICE(ARRAY_AGG(DISTINCT COALESCE(request_id, event_id)), 1, 10) AS sample_request_ids
FROM changes
WHERE
  NOT change IS NULL
  AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(bucket, ''))
GROUP BY
  bucket,
  source_ip,
  principal
