-- description: Requests, errors and bytes per bucket per hour, the input of the hour-of-week baseline (baseline_deviation), with each hour's busiest source address by requests and by bytes (what a finding names as its actor).
-- sources: s3_access
-- param start: timestamp -- first hour of history, inclusive (UTC)
WITH per_source AS (
    SELECT
        bucket,
        date_trunc('hour', time) AS hour,
        coalesce(remote_ip, '-') AS source,
        count(*) AS requests,
        count_if(http_status >= 400 AND http_status < 500) AS errors_4xx,
        sum(coalesce(bytes_sent, 0)) AS bytes
    FROM s3_access
    WHERE time >= :start
      AND time < :end
    GROUP BY bucket, date_trunc('hour', time), coalesce(remote_ip, '-')
),
-- The busiest source of each hour by requests and by bytes; ties go to the smallest address,
-- on both engines. A maximum and a join, not a sort: an hour may hold millions of sources.
hourly AS (
    SELECT
        bucket,
        hour,
        sum(requests) AS requests,
        sum(errors_4xx) AS errors_4xx,
        sum(bytes) AS bytes,
        count(*) AS distinct_ips,
        max(requests) AS top_requests,
        max(bytes) AS top_bytes
    FROM per_source
    GROUP BY bucket, hour
),
tops AS (
    SELECT
        s.bucket,
        s.hour,
        min(CASE WHEN s.requests = h.top_requests THEN s.source END) AS top_source,
        min(CASE WHEN s.bytes = h.top_bytes THEN s.source END) AS top_bytes_source
    FROM per_source AS s
    JOIN hourly AS h ON h.bucket = s.bucket AND h.hour = s.hour
    WHERE s.requests = h.top_requests OR s.bytes = h.top_bytes
    GROUP BY s.bucket, s.hour
)
SELECT
    h.bucket,
    h.hour,
    h.requests,
    h.errors_4xx,
    h.bytes,
    h.distinct_ips,
    t.top_source,
    h.top_requests AS top_source_requests,
    t.top_bytes_source,
    h.top_bytes AS top_bytes_source_bytes
FROM hourly AS h
JOIN tops AS t ON t.bucket = h.bucket AND t.hour = h.hour
