-- description: Large egress: bytes sent to one IP and principal from one bucket in one period (data leakage). A routine job is not reported: the same role (any session) from the same place (the same address, or any private address) heavy at the same hour of day, within an hour, on another day of the lookback or window.
-- sources: s3_access
-- param period_minutes: integer = 60 -- length of one counting period, in minutes
-- param min_bytes: bigint = 268435456 -- bytes to one source in one period that count as large egress (private buckets)
-- param min_bytes_public: bigint = 2147483648 -- the same threshold on buckets public by design (a site serves bytes)
-- param public_buckets: array(varchar) = [] -- buckets with profile public_site
-- param lookback_days: integer = 14 -- history searched for the same heavy transfer on other days, in days before start
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
    WHERE time >= date_add('day', -:lookback_days, :start)
      AND time < :end
      AND bytes_sent > 0
      -- CloudFront filling its edge caches (origin access control signs as the service; an
      -- origin access identity is a CloudFront user): the bytes go to the CDN, not a person.
      AND coalesce(requester, '') <> 'svc:cloudfront.amazonaws.com'
      AND coalesce(requester, '') NOT LIKE '%CloudFront Origin Access Identity%'
      AND NOT contains(:allow_principals, coalesce(requester, ''))
      AND NOT contains(:allow_user_agents, coalesce(user_agent, ''))
),
-- First the sums alone (cheap), then details only for the few heavy periods. An address
-- that did not take enough in a period did not as any one principal either, so principals
-- are keyed only on the heavy addresses.
heavy_ips AS (
    SELECT bucket, remote_ip, period
    FROM reads
    GROUP BY bucket, remote_ip, period
    HAVING sum(bytes_sent) >= CASE WHEN contains(:public_buckets, bucket) THEN :min_bytes_public ELSE :min_bytes END
),
all_heavy AS (
    SELECT
        r.bucket,
        r.remote_ip,
        r.principal_key,
        r.period,
        -- Who and from where, for routine jobs: a role whatever its session, from its own
        -- address or from any private (VPC) address.
        coalesce(nullif(regexp_extract(r.principal_key, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'), ''), r.principal_key) AS actor,
        CASE
            WHEN regexp_like(r.remote_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|f[cd][0-9a-f]{0,2}:)') THEN 'private'
            ELSE r.remote_ip
        END AS place
    FROM reads AS r
    JOIN heavy_ips AS i ON i.bucket = r.bucket AND i.remote_ip = r.remote_ip AND i.period = r.period
    GROUP BY r.bucket, r.remote_ip, r.principal_key, r.period
    HAVING sum(r.bytes_sent) >= CASE WHEN contains(:public_buckets, r.bucket) THEN :min_bytes_public ELSE :min_bytes END
),
totals AS (
    SELECT h.bucket, h.remote_ip, h.principal_key, h.period
    FROM all_heavy AS h
    WHERE h.period >= date_add('minute', -:period_minutes, :start)
      AND NOT EXISTS (
          SELECT 1
          FROM all_heavy AS o
          WHERE o.bucket = h.bucket
            AND o.actor = h.actor
            AND o.place = h.place
            AND date_trunc('day', o.period) <> date_trunc('day', h.period)
            AND abs(((hour(o.period) * 60 + minute(o.period)) - (hour(h.period) * 60 + minute(h.period)) + 720 + 1440) % 1440 - 720) <= 60
      )
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
    WHERE r.time >= :start
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
