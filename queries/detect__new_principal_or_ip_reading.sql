-- description: Object reads by an IP or principal never seen on that bucket in the lookback (first-seen). A role is one principal whatever its session names; a known principal on a new private (VPC) address is not new.
-- sources: s3_access
-- param start: timestamp -- window start, inclusive (UTC); [start - lookback, start) is history
-- param lookback_days: integer = 14 -- history searched for earlier sightings, in days before start
-- param warmup_hours: integer = 24 -- sightings in the first hours of the logs are not new (no history to compare yet)
-- param min_reads: integer = 5 -- fewest successful reads by the new source to report
-- param public_buckets: array(varchar) = [] -- buckets public by design: anonymous readers there are never new
-- param allow_principals: array(varchar) = [] -- requester ARNs never reported
-- param allow_user_agents: array(varchar) = [] -- exact user agents never reported
WITH window_reads AS (
    -- An assumed role is known by its role, not by the session (names change every hour on
    -- many platforms): arn:aws:sts::ACCOUNT:assumed-role/ROLE.
    SELECT
        bucket,
        remote_ip,
        coalesce(nullif(regexp_extract(requester, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'), ''), coalesce(requester, '')) AS principal_key,
        requester,
        bytes_sent,
        key,
        time,
        request_id
    FROM s3_access
    WHERE time >= :start
      AND time < :end
      AND operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT', 'REST.COPY.OBJECT_GET')
      AND http_status < 400
      AND (requester IS NOT NULL OR NOT contains(:public_buckets, bucket))
      AND NOT contains(:allow_principals, coalesce(requester, ''))
      AND NOT contains(:allow_user_agents, coalesce(user_agent, ''))
),
-- Counts alone first (cheap even when every row is its own source), then history and
-- details only for the sources that read enough: an address that did not read enough in
-- total did not as any one principal either, so principals are keyed only on those.
busy_ips AS (
    SELECT bucket, remote_ip
    FROM window_reads
    GROUP BY 1, 2
    HAVING count(*) >= :min_reads
),
candidates AS (
    SELECT r.bucket, r.remote_ip, r.principal_key
    FROM window_reads AS r
    JOIN busy_ips AS b ON b.bucket = r.bucket AND b.remote_ip = r.remote_ip
    GROUP BY 1, 2, 3
    HAVING count(*) >= :min_reads
),
history AS (
    SELECT
        bucket,
        remote_ip,
        coalesce(nullif(regexp_extract(requester, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'), ''), coalesce(requester, '')) AS principal_key,
        time
    FROM s3_access
    WHERE time >= date_add('day', -:lookback_days, :start)
      AND time < :end
),
bucket_start AS (
    SELECT bucket, min(time) AS data_start
    FROM history
    GROUP BY bucket
),
ip_first AS (
    SELECT h.bucket, h.remote_ip, min(h.time) AS first_time
    FROM history AS h
    JOIN (SELECT DISTINCT bucket, remote_ip FROM candidates) AS c ON c.bucket = h.bucket AND c.remote_ip = h.remote_ip
    GROUP BY h.bucket, h.remote_ip
),
principal_first AS (
    SELECT h.bucket, h.principal_key, min(h.time) AS first_time
    FROM history AS h
    JOIN (SELECT DISTINCT bucket, principal_key FROM candidates WHERE principal_key <> '') AS c
        ON c.bucket = h.bucket AND c.principal_key = h.principal_key
    GROUP BY h.bucket, h.principal_key
),
reads AS (
    SELECT
        r.bucket,
        r.remote_ip,
        r.principal_key,
        min(r.requester) AS principal,
        count(*) AS n,
        sum(coalesce(r.bytes_sent, 0)) AS b,
        approx_distinct(r.key) AS keys,
        min(r.time) AS first_time,
        max(r.time) AS last_time,
        min(r.key) AS key_a,
        max(r.key) AS key_b,
        min(r.request_id) AS request_a,
        max(r.request_id) AS request_b
    FROM window_reads AS r
    JOIN candidates AS c ON c.bucket = r.bucket AND c.remote_ip = r.remote_ip AND c.principal_key = r.principal_key
    GROUP BY 1, 2, 3
),
judged AS (
    SELECT
        r.*,
        i.first_time >= :start
            AND i.first_time >= date_add('hour', :warmup_hours, s.data_start)
            -- A known principal's workers come and go inside the VPC: a new private address
            -- (RFC 1918, IPv6 unique local) is not a new place.
            AND NOT (
                p.first_time IS NOT NULL
                AND NOT (p.first_time >= :start AND p.first_time >= date_add('hour', :warmup_hours, s.data_start))
                AND regexp_like(r.remote_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|f[cd][0-9a-f]{0,2}:)')
            ) AS new_ip,
        coalesce(
            p.first_time >= :start
                AND p.first_time >= date_add('hour', :warmup_hours, s.data_start),
            false
        ) AS new_principal
    FROM reads AS r
    JOIN bucket_start AS s ON s.bucket = r.bucket
    JOIN ip_first AS i ON i.bucket = r.bucket AND i.remote_ip = r.remote_ip
    LEFT JOIN principal_first AS p ON p.bucket = r.bucket AND p.principal_key = r.principal_key
)
SELECT
    bucket,
    remote_ip AS source_ip,
    principal,
    first_time AS first_seen,
    last_time AS last_seen,
    n AS event_count,
    b AS bytes,
    keys AS objects,
    CASE
        WHEN new_ip AND new_principal THEN 'IP and principal'
        WHEN new_ip THEN 'IP'
        ELSE 'principal'
    END AS new_what,
    ARRAY[key_a, key_b] AS sample_keys,
    ARRAY[request_a, request_b] AS sample_request_ids
FROM judged
WHERE (new_ip OR new_principal)
  AND n >= :min_reads
