WITH acts AS NOT MATERIALIZED (
  SELECT
    bucket,
    CASE
      WHEN operation IN (
        'REST.DELETE.OBJECT',
        'BATCH.DELETE.OBJECT',
        'REST.POST.MULTI_OBJECT_DELETE',
        'REST.DELETE.UPLOAD'
      )
      THEN 'delete'
      WHEN operation IN (
        'REST.GET.OBJECT',
        'WEBSITE.GET.OBJECT',
        'REST.HEAD.OBJECT',
        'WEBSITE.HEAD.OBJECT',
        'REST.COPY.OBJECT_GET',
        'REST.GET.OBJECT_TAGGING',
        'REST.GET.ACL'
      )
      THEN 'read'
      WHEN operation IN (
        'REST.PUT.OBJECT',
        'REST.POST.UPLOAD',
        'REST.PUT.PART',
        'REST.POST.UPLOADS',
        'REST.COPY.OBJECT',
        'REST.COPY.PART',
        'REST.PUT.OBJECT_TAGGING',
        'REST.PUT.ACL',
        'REST.POST.OBJECT'
      )
      THEN 'write'
      WHEN operation IN (
        'REST.GET.BUCKET',
        'REST.GET.BUCKETVERSIONS',
        'REST.GET.UPLOADS',
        'REST.HEAD.BUCKET'
      )
      THEN 'list'
      WHEN STARTS_WITH(operation, 'REST.PUT.')
      OR STARTS_WITH(operation, 'REST.POST.')
      OR STARTS_WITH(operation, 'REST.DELETE.')
      THEN 'configure'
      ELSE 'other'
    END AS action,
    CASE
      WHEN http_status < 400
      THEN 'ok'
      WHEN http_status = 403
      THEN 'denied'
      WHEN http_status = 404
      THEN 'not found'
      ELSE 'error'
    END AS outcome,
    operation,
    key,
    bytes_sent,
    time
  FROM s3_access AS s3_access
  WHERE
    time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND (
      requester = '203.0.113.50'
      OR remote_ip = '203.0.113.50'
      OR STARTS_WITH(requester, '203.0.113.50' || '/')
    )
)
SELECT
  bucket,
  action,
  outcome,
  COUNT(*) AS requests,
  COUNT(DISTINCT key) AS objects,
  CAST(COALESCE(SUM(bytes_sent), 0) AS BIGINT) AS bytes_sent,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen,
  ARRAY_TO_STRING(LIST_SORT(LIST_DISTINCT(ARRAY_AGG(operation))), ', ') AS operations
FROM acts
GROUP BY
  bucket,
  action,
  outcome
ORDER BY
  bucket,
  action,
  outcome
