-- description: A ransom note left in a bucket: an object uploaded under a name ransomware uses for its note (ransom, decrypt, how_to_recover, your_files, .locked...) by an actor who deleted or rewrote many objects of that bucket in the same window.
-- sources: s3_access, cloudtrail
-- param min_destructive: integer = 10 -- fewest deletes or rewrites by the same actor on the bucket that make an upload with such a name a ransom note
-- param note_pattern: varchar = '(ransom|decrypt|how[_ -]?to[_ -]?(recover|restore|decrypt|get[_ -]?back)|(recover|restore)[_ -]?(your|my|all)[_ -]?(files|data)|your[_ -]?(files|data)[_ -]?(are|were|is)|files[_ -]?encrypted|\.(ransom|locked|encrypted)$)' -- regular expression (on the lower-case key) of ransom-note names
-- param allow_principals: array(varchar) = [] -- principals (ARNs) never reported
WITH events AS (
    SELECT
        bucket,
        remote_ip AS source_ip,
        requester AS principal,
        CASE
            WHEN operation IN ('REST.PUT.OBJECT', 'REST.POST.UPLOAD', 'REST.COPY.OBJECT') AND regexp_like(lower(coalesce(key, '')), :note_pattern) THEN 'note'
            WHEN operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT') THEN 'delete'
            WHEN operation IN ('REST.PUT.OBJECT', 'REST.COPY.OBJECT', 'REST.POST.UPLOAD') THEN 'write'
        END AS action,
        key,
        request_id,
        time
    FROM s3_access
    WHERE time >= :start
      AND time < :end
      AND (http_status < 300 OR http_status IS NULL)
      AND operation IN ('REST.PUT.OBJECT', 'REST.POST.UPLOAD', 'REST.COPY.OBJECT', 'REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT')
      AND NOT contains(:allow_principals, coalesce(requester, ''))
    UNION ALL
    SELECT
        bucket_name AS bucket,
        source_ip_address AS source_ip,
        user_identity_arn AS principal,
        CASE
            WHEN event_name IN ('PutObject', 'CopyObject', 'CompleteMultipartUpload') AND regexp_like(lower(coalesce(object_key, '')), :note_pattern) THEN 'note'
            WHEN event_name IN ('DeleteObject', 'DeleteObjects') THEN 'delete'
            WHEN event_name IN ('PutObject', 'CopyObject', 'CompleteMultipartUpload') THEN 'write'
        END AS action,
        object_key AS key,
        coalesce(request_id, event_id) AS request_id,
        event_time AS time
    FROM cloudtrail
    WHERE event_time >= :start
      AND event_time < :end
      AND event_source = 's3.amazonaws.com'
      AND nullif(error_code, '') IS NULL
      AND event_name IN ('PutObject', 'CopyObject', 'CompleteMultipartUpload', 'DeleteObject', 'DeleteObjects')
      AND NOT contains(:allow_principals, coalesce(user_identity_arn, ''))
),
actors AS (
    SELECT
        bucket,
        coalesce(principal, source_ip, '-') AS actor,
        count_if(action = 'note') AS notes,
        count_if(action IN ('delete', 'write')) AS destructive
    FROM events
    GROUP BY bucket, coalesce(principal, source_ip, '-')
    HAVING count_if(action = 'note') > 0 AND count_if(action IN ('delete', 'write')) >= :min_destructive
)
SELECT
    e.bucket,
    e.source_ip,
    e.principal,
    min(e.time) AS first_seen,
    max(e.time) AS last_seen,
    count(*) AS event_count,
    CAST(0 AS bigint) AS bytes,
    max(a.destructive) AS destructive,
    slice(array_agg(DISTINCT e.key), 1, 10) AS sample_keys,
    slice(array_agg(DISTINCT e.request_id), 1, 10) AS sample_request_ids
FROM events AS e
JOIN actors AS a
  ON a.bucket = e.bucket
 AND a.actor = coalesce(e.principal, e.source_ip, '-')
WHERE e.action = 'note'
GROUP BY e.bucket, e.source_ip, e.principal
