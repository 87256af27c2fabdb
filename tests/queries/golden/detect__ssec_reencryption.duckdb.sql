WITH writes AS NOT MATERIALIZED (
  SELECT
    COALESCE(bucket_name, request_parameters ->> '$.bucketName') AS bucket,
    source_ip_address AS source_ip,
    user_identity_arn AS principal,
    COALESCE(object_key, request_parameters ->> '$.key') AS key,
    event_name,
    event_time,
    COALESCE(request_id, event_id) AS request_id,
    COALESCE(bytes_transferred_in, 0) AS bytes_in,
    recipient_account_id,
    REGEXP_EXTRACT(
      COALESCE(request_parameters, ''),
      '"x-amz-server-side-encryption-aws-kms-key-id"\s*:\s*"arn:aws[a-z-]*:kms:[a-z0-9-]*:([0-9]{12}):',
      1
    ) AS key_account,
    STRPOS(
      COALESCE(request_parameters, ''),
      'x-amz-server-side-encryption-customer-algorithm'
    ) > 0
    OR STRPOS(COALESCE(additional_event_data, ''), 'SSE_C') > 0 AS ssec
  FROM cloudtrail AS cloudtrail
  WHERE
    event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND event_source = 's3.amazonaws.com'
    AND NULLIF(error_code, '') IS NULL
    AND event_name IN (
      'PutObject',
      'CopyObject',
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPartCopy',
      'CompleteMultipartUpload'
    )
    AND (
      STRPOS(
        COALESCE(request_parameters, ''),
        'x-amz-server-side-encryption-customer-algorithm'
      ) > 0
      OR STRPOS(COALESCE(additional_event_data, ''), 'SSE_C') > 0
      OR STRPOS(COALESCE(request_parameters, ''), 'x-amz-server-side-encryption-aws-kms-key-id') > 0
    )
    AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_identity_arn, ''))
), keyed AS NOT MATERIALIZED (
  SELECT
    *,
    CASE
      WHEN ssec
      THEN 'SSE-C'
      WHEN NOT NULLIF(key_account, '') IS NULL
      AND key_account <> COALESCE(recipient_account_id, '')
      AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), key_account)
      THEN 'a KMS key of account ' || key_account
    END AS kind
  FROM writes
)
SELECT
  bucket,
  source_ip,
  principal,
  kind,
  MIN(event_time) AS first_seen,
  MAX(event_time) AS last_seen,
  COUNT(*) AS event_count,
  SUM(bytes_in) AS bytes,
  COUNT(DISTINCT key) AS objects,
  ARRAY_TO_STRING(ARRAY_AGG(DISTINCT event_name), ', ') AS operation_names,
  ARRAY_SLICE(ARRAY_AGG(DISTINCT key), 1, 10) AS sample_keys,
  ARRAY_SLICE(ARRAY_AGG(DISTINCT request_id), 1, 10) AS sample_request_ids
FROM keyed
WHERE
  NOT kind IS NULL
GROUP BY
  bucket,
  source_ip,
  principal,
  kind
HAVING
  COUNT(DISTINCT key) >= 5
