-- description: Data copied or replicated to another account: object reads and copies by a foreign principal, copies into a bucket another account owns (resources[].accountId), replication configured. A routine transfer is not reported: the same principal (a role whatever its session) from the same place (its address, or any private address) doing the same at the same hour of day, within an hour, on another day of the lookback or window.
-- sources: cloudtrail, s3_access
-- param own_accounts: array(varchar) = [] -- account ids that are ours (besides the trail's own recipient account)
-- param lookback_days: integer = 14 -- history searched for the same transfer on other days, in days before start
-- param min_objects: integer = 1 -- fewest objects read or copied by one foreign account to report
-- param allow_principals: array(varchar) = [] -- principals (ARNs) never reported
WITH trail AS (
    SELECT
        *,
        -- The first resource (a bucket) owned by an account that is not ours: a copy into it
        -- leaves the account (resources[].accountId, kept as resource_account_ids).
        element_at(
            filter(
                coalesce(resource_account_ids, CAST(ARRAY[] AS array(varchar))),
                a -> a IS NOT NULL AND a <> coalesce(recipient_account_id, '') AND NOT contains(:own_accounts, a)
            ),
            1
        ) AS foreign_resource_account
    FROM cloudtrail
    WHERE event_time >= date_add('day', -:lookback_days, :start)
      AND event_time < :end
      AND event_source = 's3.amazonaws.com'
      AND nullif(error_code, '') IS NULL
),
moves AS (
    SELECT
        -- A copy names the destination as bucketName; the bucket the data left is the copy
        -- source (x-amz-copy-source: "[/]bucket/key", maybe URL-encoded).
        CASE
            WHEN event_name IN ('CopyObject', 'UploadPartCopy') AND foreign_resource_account IS NOT NULL
                THEN coalesce(nullif(regexp_extract(request_parameters, '"x-amz-copy-source"\s*:\s*"/?([^/"%]+)', 1), ''), bucket_name)
            ELSE bucket_name
        END AS bucket,
        source_ip_address AS source_ip,
        coalesce(user_identity_arn, user_identity_account_id) AS principal,
        CASE
            WHEN event_name IN ('CopyObject', 'UploadPartCopy') AND foreign_resource_account IS NOT NULL THEN foreign_resource_account
            ELSE user_identity_account_id
        END AS account,
        CASE
            WHEN event_name = 'PutBucketReplication' THEN 'replication configured'
            WHEN event_name IN ('CopyObject', 'UploadPartCopy') AND foreign_resource_account IS NOT NULL THEN 'copied into another account''s bucket'
            ELSE 'read by another account'
        END AS kind,
        event_name,
        object_key AS key,
        coalesce(request_id, event_id) AS request_id,
        coalesce(bytes_transferred_out, 0) AS bytes_out,
        event_time AS time
    FROM trail
    WHERE NOT contains(:allow_principals, coalesce(user_identity_arn, ''))
      AND (
          event_name = 'PutBucketReplication'
          OR (event_name IN ('CopyObject', 'UploadPartCopy') AND foreign_resource_account IS NOT NULL)
          OR (
              event_name IN ('GetObject', 'CopyObject', 'UploadPartCopy')
              AND user_identity_account_id IS NOT NULL
              -- Anonymous callers carry accountId ANONYMOUS_PRINCIPAL: nobody's account.
              AND user_identity_account_id <> 'ANONYMOUS_PRINCIPAL'
              AND user_identity_account_id <> coalesce(recipient_account_id, '')
              AND NOT contains(:own_accounts, user_identity_account_id)
              AND coalesce(user_identity_type, '') <> 'AWSService'
          )
      )
    UNION ALL
    SELECT
        bucket,
        remote_ip AS source_ip,
        requester AS principal,
        regexp_extract(requester, '^arn:aws[a-z-]*:(iam|sts)::([0-9]{12}):', 2) AS account,
        'copied by another account' AS kind,
        operation AS event_name,
        key,
        request_id,
        coalesce(bytes_sent, 0) AS bytes_out,
        time
    FROM s3_access
    WHERE time >= date_add('day', -:lookback_days, :start)
      AND time < :end
      AND operation IN ('REST.COPY.OBJECT_GET', 'REST.COPY.PART_GET')
      AND http_status < 300
      AND cardinality(:own_accounts) > 0
      AND NOT contains(:own_accounts, coalesce(regexp_extract(requester, '^arn:aws[a-z-]*:(iam|sts)::([0-9]{12}):', 2), ''))
      AND NOT contains(:allow_principals, coalesce(requester, ''))
)
,
placed AS (
    SELECT
        *,
        -- Who and from where, for routine transfers: a role whatever its session, from its
        -- own address or from any private (VPC) address.
        coalesce(nullif(regexp_extract(principal, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'), ''), coalesce(principal, '')) AS actor,
        CASE
            WHEN regexp_like(coalesce(source_ip, ''), '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|f[cd][0-9a-f]{0,2}:)') THEN 'private'
            ELSE coalesce(source_ip, '')
        END AS place,
        hour(time) * 60 + minute(time) AS minute_of_day
    FROM moves
),
days AS (
    SELECT bucket, actor, place, kind, date_trunc('day', time) AS day, min(minute_of_day) AS first_minute, max(minute_of_day) AS last_minute
    FROM placed
    GROUP BY 1, 2, 3, 4, 5
),
routine_checked AS (
    SELECT
        m.*,
        m.kind <> 'replication configured'
        AND m.actor <> ''
        AND EXISTS (
            SELECT 1
            FROM days AS d
            WHERE d.bucket = m.bucket
              AND d.actor = m.actor
              AND d.place = m.place
              AND d.kind = m.kind
              AND d.day <> date_trunc('day', m.time)
              AND m.minute_of_day BETWEEN d.first_minute - 60 AND d.last_minute + 60
        ) AS routine
    FROM placed AS m
    WHERE m.time >= :start
)
SELECT
    bucket,
    source_ip,
    principal,
    kind,
    max(account) AS account,
    min(time) AS first_seen,
    max(time) AS last_seen,
    count(*) AS event_count,
    sum(bytes_out) AS bytes,
    count(DISTINCT key) AS objects,
    array_join(array_agg(DISTINCT event_name), ', ') AS operation_names,
    slice(array_agg(DISTINCT key), 1, 10) AS sample_keys,
    slice(array_agg(DISTINCT request_id), 1, 10) AS sample_request_ids
FROM routine_checked
WHERE NOT routine
GROUP BY bucket, source_ip, principal, kind
HAVING count(DISTINCT key) >= :min_objects OR kind = 'replication configured'
