-- description: Large egress: bytes sent to one IP and principal from one bucket in one period (data leakage).
-- sources: s3_access
-- param period_minutes: integer = 60 -- length of one counting period, in minutes
-- param min_bytes: bigint = 268435456 -- bytes to one source in one period that count as large egress (private buckets)
-- param min_bytes_public: bigint = 2147483648 -- the same threshold on buckets public by design (a site serves bytes)
-- param public_buckets: array(varchar) = [] -- buckets with profile public_site
-- param allow_principals: array(varchar) = [] -- requester ARNs never reported
-- param allow_user_agents: array(varchar) = [] -- exact user agents never reported
WITH reads AS (
    SELECT
        bucket,
        remote_ip,
        coalesce(requester, '') AS principal_key,
        key,
        request_id,
        bytes_sent,
        time,
        from_unixtime(floor(to_unixtime(time) / (:period_minutes * 60)) * (:period_minutes * 60)) AS period
    FROM s3_access
    WHERE time >= :start
      AND time < :end
      AND bytes_sent > 0
      -- CloudFront filling its edge caches (origin access control signs as the service; an
      -- origin access identity is a CloudFront user): the bytes go to the CDN, not a person.
      AND coalesce(requester, '') <> 'svc:cloudfront.amazonaws.com'
      AND coalesce(requester, '') NOT LIKE '%CloudFront Origin Access Identity%'
      AND NOT contains(:allow_principals, coalesce(requester, ''))
      AND NOT contains(:allow_user_agents, coalesce(user_agent, ''))
),
-- First the sums alone (cheap), then details only for the few heavy periods.
totals AS (
    SELECT bucket, remote_ip, principal_key, period
    FROM reads
    GROUP BY bucket, remote_ip, principal_key, period
    HAVING sum(bytes_sent) >= CASE WHEN contains(:public_buckets, bucket) THEN :min_bytes_public ELSE :min_bytes END
),
heavy AS (
    SELECT
        r.bucket,
        r.remote_ip,
        r.principal_key,
        r.period,
        count(*) AS n,
        sum(r.bytes_sent) AS b,
        count(DISTINCT r.key) AS keys,
        min(r.time) AS first_time,
        max(r.time) AS last_time,
        min(r.key) AS key_a,
        max(r.key) AS key_b,
        min(r.request_id) AS request_a
    FROM reads AS r
    JOIN totals AS t
        ON r.bucket = t.bucket AND r.remote_ip = t.remote_ip AND r.principal_key = t.principal_key AND r.period = t.period
    GROUP BY r.bucket, r.remote_ip, r.principal_key, r.period
)
SELECT
    bucket,
    remote_ip AS source_ip,
    nullif(principal_key, '') AS principal,
    min(first_time) AS first_seen,
    max(last_time) AS last_seen,
    sum(n) AS event_count,
    sum(b) AS bytes,
    sum(keys) AS objects,
    count(*) AS periods,
    array_agg(DISTINCT key_a) AS sample_keys,
    array_agg(DISTINCT key_b) AS sample_keys_more,
    array_agg(DISTINCT request_a) AS sample_request_ids
FROM heavy
GROUP BY bucket, remote_ip, principal_key
