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
ranked AS (
    SELECT
        *,
        -- The busiest source of the hour; ties go to the smallest address, on both engines.
        row_number() OVER (PARTITION BY bucket, hour ORDER BY requests DESC, source) AS rank_in_hour,
        row_number() OVER (PARTITION BY bucket, hour ORDER BY bytes DESC, source) AS bytes_rank_in_hour
    FROM per_source
)
SELECT
    bucket,
    hour,
    sum(requests) AS requests,
    sum(errors_4xx) AS errors_4xx,
    sum(bytes) AS bytes,
    count(*) AS distinct_ips,
    max(CASE WHEN rank_in_hour = 1 THEN source END) AS top_source,
    max(CASE WHEN rank_in_hour = 1 THEN requests END) AS top_source_requests,
    max(CASE WHEN bytes_rank_in_hour = 1 THEN source END) AS top_bytes_source,
    max(CASE WHEN bytes_rank_in_hour = 1 THEN bytes END) AS top_bytes_source_bytes
FROM ranked
GROUP BY bucket, hour
