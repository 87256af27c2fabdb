-- description: Mass deletion: many object deletes from one source in one period, or a bucket deletion (lifecycle rules that expire objects: recovery_weakened). A routine job is not reported: the same role (any session) from the same place (the same address, or any private address) deleting as many at the same hour of day, within an hour, on another day of the lookback or window.
-- sources: s3_access, cloudtrail
-- param period_minutes: integer = 60 -- length of one counting period, in minutes
-- param min_deletes: integer = 50 -- fewest deleted objects from one source in one period (CloudTrail: each DeleteObject one, each DeleteObjects its estimated count)
-- param bytes_per_key: integer = 128 -- DeleteObjects request bytes counted as one key when CloudTrail alone is read (an estimate: the keys are not recorded)
-- param lookback_days: integer = 14 -- history searched for the same deletes on other days, in days before start
-- param allow_principals: array(varchar) = [] -- principals (ARNs) never reported
-- param allow_user_agents: array(varchar) = [] -- exact user agents never reported
WITH deletes AS (
    SELECT
        'access log' AS origin,
        bucket,
        remote_ip AS source_ip,
        coalesce(requester, '') AS principal_key,
        operation AS action,
        key,
        request_id,
        time,
        coalesce(object_size, 0) AS size,
        CAST(1 AS bigint) AS objects
    FROM s3_access
    WHERE time >= date_add('day', -:lookback_days, :start)
      AND time < :end
      AND operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT', 'REST.DELETE.BUCKET')
      AND (http_status < 300 OR http_status IS NULL)
      AND NOT contains(:allow_principals, coalesce(requester, ''))
      AND NOT contains(:allow_user_agents, coalesce(user_agent, ''))
    UNION ALL
    SELECT
        'cloudtrail' AS origin,
        coalesce(bucket_name, '') AS bucket,
        source_ip_address AS source_ip,
        coalesce(user_identity_arn, '') AS principal_key,
        event_name AS action,
        object_key AS key,
        request_id,
        event_time AS time,
        CAST(0 AS bigint) AS size,
        -- CloudTrail does not record the keys of a DeleteObjects call (up to 1,000 of them):
        -- estimate them from the request body, <Object><Key>...</Key></Object> per key.
        CASE
            WHEN event_name = 'DeleteObjects' THEN least(1000, greatest(1, CAST(floor(coalesce(bytes_transferred_in, 0) / :bytes_per_key) AS bigint)))
            ELSE CAST(1 AS bigint)
        END AS objects
    FROM cloudtrail
    WHERE event_time >= date_add('day', -:lookback_days, :start)
      AND event_time < :end
      AND event_source = 's3.amazonaws.com'
      AND nullif(error_code, '') IS NULL
      AND event_name IN ('DeleteObject', 'DeleteObjects', 'DeleteBucket')
      AND NOT contains(:allow_principals, coalesce(user_identity_arn, ''))
      AND NOT contains(:allow_user_agents, coalesce(user_agent, ''))
),
periods AS (
    SELECT
        origin,
        bucket,
        source_ip,
        principal_key,
        from_unixtime(floor(to_unixtime(time) / (:period_minutes * 60)) * (:period_minutes * 60)) AS period,
        count(*) AS n,
        sum(objects) AS deleted,
        count_if(action IN ('DeleteBucket', 'REST.DELETE.BUCKET')) AS drastic,
        sum(size) AS b,
        min(action) AS action_a,
        max(action) AS action_b,
        min(time) AS first_time,
        max(time) AS last_time,
        min(key) AS key_a,
        max(key) AS key_b,
        min(request_id) AS request_a
    FROM deletes
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(objects) >= :min_deletes
        OR count_if(action IN ('DeleteBucket', 'REST.DELETE.BUCKET')) > 0
),
placed AS (
    SELECT
        *,
        -- Who and from where, for routine jobs: a role whatever its session, from its own
        -- address or from any private (VPC) address.
        coalesce(nullif(regexp_extract(principal_key, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+'), ''), principal_key) AS actor,
        CASE
            WHEN regexp_like(coalesce(source_ip, ''), '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|f[cd][0-9a-f]{0,2}:)') THEN 'private'
            ELSE coalesce(source_ip, '')
        END AS place
    FROM periods
),
reported AS (
    SELECT h.*
    FROM placed AS h
    WHERE h.last_time >= :start
      AND (
          h.drastic > 0
          OR NOT EXISTS (
              SELECT 1
              FROM placed AS o
              WHERE o.origin = h.origin
                AND o.bucket = h.bucket
                AND o.actor = h.actor
                AND o.place = h.place
                AND o.drastic = 0
                AND o.deleted * 2 >= h.deleted
                AND date_trunc('day', o.period) <> date_trunc('day', h.period)
                AND abs(((hour(o.period) * 60 + minute(o.period)) - (hour(h.period) * 60 + minute(h.period)) + 720 + 1440) % 1440 - 720) <= 60
          )
      )
)
SELECT
    nullif(bucket, '') AS bucket,
    source_ip,
    nullif(principal_key, '') AS principal,
    origin,
    min(first_time) AS first_seen,
    max(last_time) AS last_seen,
    sum(n) AS event_count,
    sum(deleted) AS objects_deleted,
    sum(b) AS bytes,
    sum(drastic) AS drastic_changes,
    array_join(array_distinct(array_agg(action_a) || array_agg(action_b)), ', ') AS operation_names,
    array_agg(DISTINCT key_a) AS sample_keys,
    array_agg(DISTINCT key_b) AS sample_keys_more,
    array_agg(DISTINCT request_a) AS sample_request_ids
FROM reported
GROUP BY origin, bucket, source_ip, principal_key
