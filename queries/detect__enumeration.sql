-- description: Enumeration: many list, HEAD, ACL, policy and configuration reads from one source in one period.
-- sources: s3_access, cloudtrail
-- param period_minutes: integer = 60 -- length of one counting period, in minutes
-- param min_requests: integer = 200 -- fewest enumeration requests from one source to one bucket in one period
-- param min_operations: integer = 1 -- fewest distinct enumeration operations in that period
-- param allow_principals: array(varchar) = [] -- principals (ARNs) never reported
-- param allow_user_agents: array(varchar) = [] -- exact user agents never reported
WITH calls AS (
    SELECT
        bucket,
        remote_ip AS source_ip,
        coalesce(requester, '') AS principal_key,
        operation AS action,
        key,
        request_id,
        time
    FROM s3_access
    WHERE time >= :start
      AND time < :end
      AND (
          operation LIKE 'REST.HEAD.%'
          OR (operation LIKE 'REST.GET.%' AND operation NOT IN ('REST.GET.OBJECT', 'REST.GET.OBJECT_TORRENT'))
      )
      AND NOT contains(:allow_principals, coalesce(requester, ''))
      AND NOT contains(:allow_user_agents, coalesce(user_agent, ''))
    UNION ALL
    SELECT
        coalesce(bucket_name, '') AS bucket,
        source_ip_address AS source_ip,
        coalesce(user_identity_arn, '') AS principal_key,
        event_name AS action,
        object_key AS key,
        request_id,
        event_time AS time
    FROM cloudtrail
    WHERE event_time >= :start
      AND event_time < :end
      AND event_source = 's3.amazonaws.com'
      AND management_event
      AND (event_name LIKE 'Get%' OR event_name LIKE 'List%' OR event_name LIKE 'Head%')
      AND NOT contains(:allow_principals, coalesce(user_identity_arn, ''))
      AND NOT contains(:allow_user_agents, coalesce(user_agent, ''))
),
periods AS (
    SELECT
        bucket,
        source_ip,
        principal_key,
        from_unixtime(floor(to_unixtime(time) / (:period_minutes * 60)) * (:period_minutes * 60)) AS period,
        count(*) AS n,
        count(DISTINCT action) AS actions,
        min(action) AS action_a,
        max(action) AS action_b,
        min(time) AS first_time,
        max(time) AS last_time,
        min(key) AS key_a,
        max(key) AS key_b,
        min(request_id) AS request_a
    FROM calls
    GROUP BY 1, 2, 3, 4
    HAVING count(*) >= :min_requests AND count(DISTINCT action) >= :min_operations
)
SELECT
    nullif(bucket, '') AS bucket,
    source_ip,
    nullif(principal_key, '') AS principal,
    min(first_time) AS first_seen,
    max(last_time) AS last_seen,
    sum(n) AS event_count,
    CAST(0 AS bigint) AS bytes,
    max(actions) AS operations,
    array_join(array_distinct(array_agg(action_a) || array_agg(action_b)), ', ') AS operation_names,
    array_agg(DISTINCT key_a) AS sample_keys,
    array_agg(DISTINCT key_b) AS sample_keys_more,
    array_agg(DISTINCT request_a) AS sample_request_ids
FROM periods
GROUP BY bucket, source_ip, principal_key
