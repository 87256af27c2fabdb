-- description: Logging evasion: server access logging disabled, a trail stopped, deleted or changed, event selectors changed.
-- sources: cloudtrail
-- param include_failed: boolean = true -- also report attempts that AWS refused (an attacker probing)
-- param allow_principals: array(varchar) = [] -- principals (ARNs) never reported
WITH changes AS (
    SELECT
        coalesce(
            bucket_name,
            json_extract_scalar(request_parameters, '$.bucketName'),
            json_extract_scalar(request_parameters, '$.name')
        ) AS target,
        event_source,
        source_ip_address AS source_ip,
        user_identity_arn AS principal,
        event_name,
        event_time,
        error_code,
        request_id,
        event_id,
        CASE
            -- Logging is off when the call sends a BucketLoggingStatus without LoggingEnabled;
            -- a record without BucketLoggingStatus says nothing either way.
            WHEN event_source = 's3.amazonaws.com' AND event_name = 'PutBucketLogging'
                AND strpos(coalesce(request_parameters, ''), '"BucketLoggingStatus"') > 0
                AND strpos(request_parameters, '"LoggingEnabled"') = 0
                THEN 'server access logging disabled'
            WHEN event_source = 'cloudtrail.amazonaws.com' AND event_name = 'StopLogging' THEN 'trail stopped'
            WHEN event_source = 'cloudtrail.amazonaws.com' AND event_name = 'DeleteTrail' THEN 'trail deleted'
            WHEN event_source = 'cloudtrail.amazonaws.com' AND event_name = 'UpdateTrail' THEN 'trail changed'
            WHEN event_source = 'cloudtrail.amazonaws.com' AND event_name IN ('PutEventSelectors', 'PutInsightSelectors')
                THEN 'trail event selectors changed'
        END AS change
    FROM cloudtrail
    WHERE event_time >= :start
      AND event_time < :end
      AND event_name IN ('PutBucketLogging', 'StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors')
      AND (:include_failed OR nullif(error_code, '') IS NULL)
      AND NOT contains(:allow_principals, coalesce(user_identity_arn, ''))
)
SELECT
    CASE WHEN event_source = 's3.amazonaws.com' THEN target END AS bucket,
    source_ip,
    principal,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen,
    count(*) AS event_count,
    CAST(0 AS bigint) AS bytes,
    array_join(array_agg(DISTINCT change), '; ') AS changes,
    array_join(array_agg(DISTINCT coalesce(target, '-')), ', ') AS targets,
    count_if(nullif(error_code, '') IS NOT NULL) AS refused,
    CAST(ARRAY[] AS array(varchar)) AS sample_keys,
    slice(array_agg(DISTINCT coalesce(request_id, event_id)), 1, 10) AS sample_request_ids
FROM changes
WHERE change IS NOT NULL
GROUP BY CASE WHEN event_source = 's3.amazonaws.com' THEN target END, source_ip, principal
