-- description: A bucket made public: policy granting Principal "*", a public ACL, or its public access block removed or relaxed.
-- sources: cloudtrail
-- param public_buckets: array(varchar) = [] -- buckets public by design (profile public_site); never reported
-- param allow_principals: array(varchar) = [] -- principals (ARNs) never reported
WITH changes AS (
    SELECT
        coalesce(bucket_name, json_extract_scalar(request_parameters, '$.bucketName')) AS bucket,
        source_ip_address AS source_ip,
        user_identity_arn AS principal,
        event_name,
        event_time,
        request_id,
        event_id,
        CASE
            WHEN event_name = 'PutBucketPolicy'
                AND regexp_like(request_parameters, '"Principal"\s*:\s*(\{\s*"AWS"\s*:\s*)?\[?\s*"\*"')
                THEN 'policy grants Principal "*"'
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
)
SELECT
    bucket,
    source_ip,
    principal,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    count(*) AS event_count,
    CAST(0 AS bigint) AS bytes,
    array_join(array_agg(DISTINCT change), '; ') AS changes,
    array_join(array_agg(DISTINCT event_name), ', ') AS operation_names,
    CAST(ARRAY[] AS array(varchar)) AS sample_keys,
    slice(array_agg(DISTINCT coalesce(request_id, event_id)), 1, 10) AS sample_request_ids
FROM changes
WHERE change IS NOT NULL
  AND NOT contains(:public_buckets, coalesce(bucket, ''))
GROUP BY bucket, source_ip, principal
