-- description: Bursts of 403 / AccessDenied answers to one IP or principal on one bucket's objects.
-- sources: s3_access
-- param period_minutes: integer = 15 -- length of one counting period, in minutes
-- param min_denied: integer = 20 -- fewest denied requests from one source in one period that make a burst
-- param min_distinct_keys: integer = 3 -- fewest distinct keys denied in that period (a retry loop on one key is not a burst)
-- param allow_principals: array(varchar) = [] -- requester ARNs never reported
-- param allow_user_agents: array(varchar) = [] -- exact user agents never reported
WITH denied AS (
    SELECT
        bucket,
        remote_ip,
        requester,
        key,
        request_id,
        time,
        from_unixtime(floor(to_unixtime(time) / (:period_minutes * 60)) * (:period_minutes * 60)) AS period
    FROM s3_access
    WHERE time >= :start
      AND time < :end
      AND (http_status = 403 OR error_code IN ('AccessDenied', 'AllAccessDisabled'))
      AND NOT contains(:allow_principals, coalesce(requester, ''))
      AND NOT contains(:allow_user_agents, coalesce(user_agent, ''))
),
bursts AS (
    SELECT
        bucket,
        remote_ip,
        coalesce(requester, '') AS principal_key,
        period,
        count(*) AS n,
        count(DISTINCT key) AS keys,
        min(time) AS first_time,
        max(time) AS last_time,
        min(key) AS key_a,
        max(key) AS key_b,
        min(request_id) AS request_a
    FROM denied
    GROUP BY bucket, remote_ip, coalesce(requester, ''), period
    HAVING count(*) >= :min_denied AND count(DISTINCT key) >= :min_distinct_keys
)
SELECT
    bucket,
    remote_ip AS source_ip,
    nullif(principal_key, '') AS principal,
    min(first_time) AS first_seen,
    max(last_time) AS last_seen,
    sum(n) AS event_count,
    CAST(0 AS bigint) AS bytes,
    max(n) AS peak,
    count(*) AS periods,
    array_agg(DISTINCT key_a) AS sample_keys,
    array_agg(DISTINCT key_b) AS sample_keys_more,
    array_agg(DISTINCT request_a) AS sample_request_ids
FROM bursts
GROUP BY bucket, remote_ip, principal_key
