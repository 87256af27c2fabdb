-- description: Everything one actor did in the access logs: per bucket, kind of action (read, write, delete, list, configure: any other PUT, POST or DELETE such as a policy or logging change, other) and outcome (ok, denied, not found, error), the requests, objects, bytes and first and last seen. An assumed role given by its role (arn:aws:sts::ACCOUNT:assumed-role/ROLE) matches all its sessions.
-- sources: s3_access
-- param actor: varchar -- requester ARN, assumed role, or remote IP to follow
WITH acts AS (
    SELECT
        bucket,
        CASE
            WHEN operation IN ('REST.DELETE.OBJECT', 'BATCH.DELETE.OBJECT', 'REST.POST.MULTI_OBJECT_DELETE', 'REST.DELETE.UPLOAD') THEN 'delete'
            WHEN operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT', 'REST.HEAD.OBJECT', 'WEBSITE.HEAD.OBJECT', 'REST.COPY.OBJECT_GET', 'REST.GET.OBJECT_TAGGING', 'REST.GET.ACL') THEN 'read'
            WHEN operation IN ('REST.PUT.OBJECT', 'REST.POST.UPLOAD', 'REST.PUT.PART', 'REST.POST.UPLOADS', 'REST.COPY.OBJECT', 'REST.COPY.PART', 'REST.PUT.OBJECT_TAGGING', 'REST.PUT.ACL', 'REST.POST.OBJECT') THEN 'write'
            WHEN operation IN ('REST.GET.BUCKET', 'REST.GET.BUCKETVERSIONS', 'REST.GET.UPLOADS', 'REST.HEAD.BUCKET') THEN 'list'
            WHEN starts_with(operation, 'REST.PUT.') OR starts_with(operation, 'REST.POST.') OR starts_with(operation, 'REST.DELETE.') THEN 'configure'
            ELSE 'other'
        END AS action,
        CASE
            WHEN http_status < 400 THEN 'ok'
            WHEN http_status = 403 THEN 'denied'
            WHEN http_status = 404 THEN 'not found'
            ELSE 'error'
        END AS outcome,
        operation,
        key,
        bytes_sent,
        time
    FROM s3_access
    WHERE time >= :start AND time < :end
      AND (requester = :actor OR remote_ip = :actor OR starts_with(requester, concat(:actor, '/')))
)
SELECT
    bucket,
    action,
    outcome,
    count(*) AS requests,
    count(DISTINCT key) AS objects,
    CAST(coalesce(sum(bytes_sent), 0) AS bigint) AS bytes_sent,
    min(time) AS first_seen,
    max(time) AS last_seen,
    array_join(array_sort(array_distinct(array_agg(operation))), ', ') AS operations
FROM acts
GROUP BY bucket, action, outcome
ORDER BY bucket, action, outcome
