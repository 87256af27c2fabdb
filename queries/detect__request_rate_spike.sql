-- description: Request-rate spikes: one IP, or a bucket in total, above a request count per period (the GetRequests alarm, per source). A routine job is not reported: the same role (any session) from the same place (the same address, or any private address) as fast at the same hour of day, within an hour, on another day of the lookback or window.
-- sources: s3_access
-- param period_minutes: integer = 5 -- length of one counting period, in minutes
-- param max_requests_per_ip: integer = 600 -- requests from one IP to one bucket in one period above which the period is a spike
-- param max_requests_total: integer = 10000 -- requests to one bucket in one period above which the period is a spike
-- param lookback_days: integer = 14 -- history searched for the same rate on other days, in days before start
-- param get_only: boolean = true -- count only object GETs (REST.GET.OBJECT, WEBSITE.GET.OBJECT), like the GetRequests metric
-- param allow_principals: array(varchar) = [] -- requester ARNs never counted
-- param allow_user_agents: array(varchar) = [] -- exact user agents never counted
WITH req AS (
    SELECT
        bucket,
        remote_ip,
        requester,
        key,
        request_id,
        bytes_sent,
        time,
        from_unixtime(floor(to_unixtime(time) / (:period_minutes * 60)) * (:period_minutes * 60)) AS period
    FROM s3_access
    WHERE time >= date_add('day', -:lookback_days, :start)
      AND time < :end
      AND (NOT :get_only OR operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT'))
      AND NOT contains(:allow_principals, coalesce(requester, ''))
      AND NOT contains(:allow_user_agents, coalesce(user_agent, ''))
),
-- Counts alone first (cheap), then details only for the few hot periods.
hot_counts AS (
    SELECT bucket, remote_ip, period, count(*) AS n
    FROM req
    GROUP BY bucket, remote_ip, period
    HAVING count(*) > :max_requests_per_ip
),
all_hot_ip AS (
    SELECT
        h.bucket,
        h.remote_ip,
        h.period,
        h.n,
        -- Who and from where, for routine jobs: a role whatever its session, from its own
        -- address or from any private (VPC) address; anonymous callers by address alone.
        coalesce(nullif(regexp_extract(max(r.requester), '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'), ''), coalesce(max(r.requester), '')) AS actor,
        CASE
            WHEN regexp_like(h.remote_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|f[cd][0-9a-f]{0,2}:)') THEN 'private'
            ELSE h.remote_ip
        END AS place
    FROM hot_counts AS h
    JOIN req AS r ON r.bucket = h.bucket AND r.remote_ip = h.remote_ip AND r.period = h.period
    GROUP BY h.bucket, h.remote_ip, h.period, h.n
),
hot_ip AS (
    SELECT h.bucket, h.remote_ip, h.period
    FROM all_hot_ip AS h
    WHERE h.period >= date_add('minute', -:period_minutes, :start)
      AND NOT EXISTS (
          SELECT 1
          FROM all_hot_ip AS o
          WHERE o.bucket = h.bucket
            AND o.actor = h.actor
            AND o.actor <> ''
            AND o.place = h.place
            AND o.n * 2 >= h.n
            AND date_trunc('day', o.period) <> date_trunc('day', h.period)
            AND abs(((hour(o.period) * 60 + minute(o.period)) - (hour(h.period) * 60 + minute(h.period)) + 720 + 1440) % 1440 - 720) <= 60
      )
),
hot_bucket AS (
    SELECT bucket, period, approx_distinct(remote_ip) AS ips
    FROM req
    WHERE time >= :start
    GROUP BY bucket, period
    HAVING count(*) > :max_requests_total
),
per_ip AS (
    SELECT
        r.bucket,
        r.remote_ip,
        r.period,
        max(r.requester) AS principal,
        count(*) AS n,
        sum(coalesce(r.bytes_sent, 0)) AS b,
        min(r.time) AS first_time,
        max(r.time) AS last_time,
        min(r.key) AS key_a,
        max(r.key) AS key_b,
        min(r.request_id) AS request_a
    FROM req AS r
    JOIN hot_ip AS h ON r.bucket = h.bucket AND r.remote_ip = h.remote_ip AND r.period = h.period
    WHERE r.time >= :start
    GROUP BY r.bucket, r.remote_ip, r.period
),
per_bucket AS (
    SELECT
        r.bucket,
        r.period,
        count(*) AS n,
        max(h.ips) AS ips,
        sum(coalesce(r.bytes_sent, 0)) AS b,
        min(r.time) AS first_time,
        max(r.time) AS last_time,
        min(r.key) AS key_a,
        max(r.key) AS key_b,
        min(r.request_id) AS request_a
    FROM req AS r
    JOIN hot_bucket AS h ON r.bucket = h.bucket AND r.period = h.period
    WHERE r.time >= :start
    GROUP BY r.bucket, r.period
)
SELECT
    bucket,
    remote_ip AS source_ip,
    max(principal) AS principal,
    'ip' AS scope,
    min(first_time) AS first_seen,
    max(last_time) AS last_seen,
    sum(n) AS event_count,
    sum(b) AS bytes,
    max(n) AS peak,
    count(*) AS periods,
    CAST(NULL AS bigint) AS distinct_ips,
    array_agg(DISTINCT key_a) AS sample_keys,
    array_agg(DISTINCT key_b) AS sample_keys_more,
    array_agg(DISTINCT request_a) AS sample_request_ids
FROM per_ip
GROUP BY bucket, remote_ip
UNION ALL
SELECT
    bucket,
    CAST(NULL AS varchar) AS source_ip,
    CAST(NULL AS varchar) AS principal,
    'bucket' AS scope,
    min(first_time) AS first_seen,
    max(last_time) AS last_seen,
    sum(n) AS event_count,
    sum(b) AS bytes,
    max(n) AS peak,
    count(*) AS periods,
    max(ips) AS distinct_ips,
    array_agg(DISTINCT key_a) AS sample_keys,
    array_agg(DISTINCT key_b) AS sample_keys_more,
    array_agg(DISTINCT request_a) AS sample_request_ids
FROM per_bucket
GROUP BY bucket
