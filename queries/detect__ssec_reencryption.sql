-- description: Objects rewritten with keys the owner does not hold: customer-provided keys (SSE-C) or a KMS key of another account (x-amz-server-side-encryption-aws-kms-key-id), the ransomware patterns that lock the owner out.
-- sources: cloudtrail
-- param min_objects: integer = 5 -- fewest such writes from one principal to one bucket
-- param allow_principals: array(varchar) = [] -- principals (ARNs) that use SSE-C or a partner's key legitimately
-- param own_accounts: array(varchar) = [] -- account ids that are ours (besides the trail's own recipient account)
WITH writes AS (
    SELECT
        coalesce(bucket_name, json_extract_scalar(request_parameters, '$.bucketName')) AS bucket,
        source_ip_address AS source_ip,
        user_identity_arn AS principal,
        coalesce(object_key, json_extract_scalar(request_parameters, '$.key')) AS key,
        event_name,
        event_time,
        coalesce(request_id, event_id) AS request_id,
        coalesce(bytes_transferred_in, 0) AS bytes_in,
        recipient_account_id,
        regexp_extract(
            coalesce(request_parameters, ''),
            '"x-amz-server-side-encryption-aws-kms-key-id"\s*:\s*"arn:aws[a-z-]*:kms:[a-z0-9-]*:([0-9]{12}):',
            1
        ) AS key_account,
        strpos(coalesce(request_parameters, ''), 'x-amz-server-side-encryption-customer-algorithm') > 0
            OR strpos(coalesce(additional_event_data, ''), 'SSE_C') > 0 AS ssec
    FROM cloudtrail
    WHERE event_time >= :start
      AND event_time < :end
      AND event_source = 's3.amazonaws.com'
      AND nullif(error_code, '') IS NULL
      AND event_name IN ('PutObject', 'CopyObject', 'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload')
      AND (
          strpos(coalesce(request_parameters, ''), 'x-amz-server-side-encryption-customer-algorithm') > 0
          OR strpos(coalesce(additional_event_data, ''), 'SSE_C') > 0
          OR strpos(coalesce(request_parameters, ''), 'x-amz-server-side-encryption-aws-kms-key-id') > 0
      )
      AND NOT contains(:allow_principals, coalesce(user_identity_arn, ''))
),
keyed AS (
    SELECT
        *,
        CASE
            WHEN ssec THEN 'SSE-C'
            WHEN nullif(key_account, '') IS NOT NULL
                AND key_account <> coalesce(recipient_account_id, '')
                AND NOT contains(:own_accounts, key_account)
                THEN 'a KMS key of account ' || key_account
        END AS kind
    FROM writes
)
SELECT
    bucket,
    source_ip,
    principal,
    kind,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    count(*) AS event_count,
    sum(bytes_in) AS bytes,
    count(DISTINCT key) AS objects,
    array_join(array_agg(DISTINCT event_name), ', ') AS operation_names,
    slice(array_agg(DISTINCT key), 1, 10) AS sample_keys,
    slice(array_agg(DISTINCT request_id), 1, 10) AS sample_request_ids
FROM keyed
WHERE kind IS NOT NULL
GROUP BY bucket, source_ip, principal, kind
HAVING count(DISTINCT key) >= :min_objects
