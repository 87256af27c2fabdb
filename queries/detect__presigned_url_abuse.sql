-- description: Presigned-URL abuse: one presigned URL replayed from many IPs or many times, or signed for an unusually long life.
-- sources: s3_access
-- param min_distinct_ips: integer = 4 -- fewest distinct IPs using one signature (a link shared beyond its recipient)
-- param min_uses: integer = 100 -- fewest uses of one signature
-- param max_expires_seconds: integer = 86400 -- X-Amz-Expires above this is reported (7 days is the SigV4 maximum)
-- param allow_principals: array(varchar) = [] -- signing principals (ARNs) never reported
WITH presigned AS (
    SELECT
        bucket,
        remote_ip,
        requester,
        key,
        request_id,
        bytes_sent,
        time,
        coalesce(
            regexp_extract(request_uri, '[?&]X-Amz-Signature=([0-9A-Fa-f]+)', 1),
            regexp_extract(request_uri, '[?&]Signature=([^& ]+)', 1)
        ) AS signature,
        TRY_CAST(regexp_extract(request_uri, '[?&]X-Amz-Expires=([0-9]+)', 1) AS bigint) AS expires
    FROM s3_access
    WHERE time >= :start
      AND time < :end
      AND (authentication_type = 'QueryString' OR strpos(coalesce(request_uri, ''), 'X-Amz-Signature=') > 0)
      AND NOT contains(:allow_principals, coalesce(requester, ''))
),
per_signature AS (
    SELECT
        bucket,
        signature,
        max(requester) AS principal,
        count(*) AS n,
        count(DISTINCT remote_ip) AS ips,
        min(remote_ip) AS ip_a,
        max(remote_ip) AS ip_b,
        max(expires) AS expires,
        sum(coalesce(bytes_sent, 0)) AS b,
        min(time) AS first_time,
        max(time) AS last_time,
        min(key) AS key_a,
        max(key) AS key_b,
        min(request_id) AS request_a,
        max(request_id) AS request_b
    FROM presigned
    GROUP BY bucket, signature
    HAVING count(DISTINCT remote_ip) >= :min_distinct_ips
        OR count(*) >= :min_uses
        OR max(expires) > :max_expires_seconds
)
SELECT
    bucket,
    CASE WHEN ips = 1 THEN ip_a END AS source_ip,
    principal,
    first_time AS first_seen,
    last_time AS last_seen,
    n AS event_count,
    b AS bytes,
    ips AS distinct_ips,
    expires AS expires_seconds,
    substr(coalesce(signature, '-'), 1, 12) AS signature_prefix,
    ARRAY[ip_a, ip_b] AS sample_ips,
    ARRAY[key_a, key_b] AS sample_keys,
    ARRAY[request_a, request_b] AS sample_request_ids
FROM per_signature
