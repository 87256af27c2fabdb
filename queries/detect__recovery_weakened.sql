-- description: The calls that can take away a bucket's recovery (the first steps of S3 ransomware): versioning set, lifecycle rules put. One row per successful call; the detection reads each call's parameters (versioning suspended, MFA Delete off, rules that expire objects or old versions within days).
-- sources: cloudtrail
-- param allow_principals: array(varchar) = [] -- principals (ARNs) never reported
SELECT
    bucket_name AS bucket,
    source_ip_address AS source_ip,
    user_identity_arn AS principal,
    event_name,
    event_time,
    request_parameters,
    coalesce(request_id, event_id) AS request_id
FROM cloudtrail
WHERE event_time >= :start
  AND event_time < :end
  AND event_source = 's3.amazonaws.com'
  AND event_name IN ('PutBucketVersioning', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
  AND nullif(error_code, '') IS NULL
  AND NOT contains(:allow_principals, coalesce(user_identity_arn, ''))
ORDER BY event_time, request_id
