-- description: A bucket made public or opened to another account: a policy granting Principal "*" without a restricting condition or granting a foreign account, a public ACL, or its public access block removed or relaxed. One row per successful call; policies are read statement by statement by the detection.
-- sources: cloudtrail
-- param allow_principals: array(varchar) = [] -- principals (ARNs) never reported
SELECT
    coalesce(bucket_name, json_extract_scalar(request_parameters, '$.bucketName')) AS bucket,
    source_ip_address AS source_ip,
    user_identity_arn AS principal,
    event_name,
    event_time,
    recipient_account_id,
    CASE WHEN event_name = 'PutBucketPolicy' THEN request_parameters END AS request_parameters,
    coalesce(request_id, event_id) AS request_id,
    CASE
        WHEN event_name IN ('PutBucketAcl', 'PutObjectAcl')
            AND regexp_like(request_parameters, 'acs\.amazonaws\.com/groups/global/(AllUsers|AuthenticatedUsers)|"x-amz-acl"\s*:\s*\[?\s*"(public-read|public-read-write|authenticated-read)"')
            THEN 'ACL grants public access'
        WHEN event_name IN ('DeleteBucketPublicAccessBlock', 'DeleteAccountPublicAccessBlock')
            THEN 'public access block removed'
        WHEN event_name IN ('PutBucketPublicAccessBlock', 'PutAccountPublicAccessBlock')
            AND regexp_like(request_parameters, '"(BlockPublicAcls|IgnorePublicAcls|BlockPublicPolicy|RestrictPublicBuckets)"\s*:\s*false')
            THEN 'public access block relaxed'
    END AS change
FROM cloudtrail
WHERE event_time >= :start
  AND event_time < :end
  AND event_source = 's3.amazonaws.com'
  AND nullif(error_code, '') IS NULL
  AND event_name IN (
      'PutBucketPolicy', 'PutBucketAcl', 'PutObjectAcl', 'DeleteBucketPublicAccessBlock',
      'PutBucketPublicAccessBlock', 'DeleteAccountPublicAccessBlock', 'PutAccountPublicAccessBlock'
  )
  AND NOT contains(:allow_principals, coalesce(user_identity_arn, ''))
ORDER BY event_time, request_id
