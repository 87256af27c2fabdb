SELECT
  bucket,
  TO_TIMESTAMP(FLOOR(EPOCH(time) / 300) * 300) AS period,
  COUNT(*) AS all_requests,
  COUNT_IF(COALESCE(operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT'), FALSE)) AS get_requests,
  COUNT_IF(
    COALESCE(
      operation IN ('REST.PUT.OBJECT', 'REST.POST.UPLOAD', 'REST.PUT.PART', 'REST.COPY.OBJECT'),
      FALSE
    )
  ) AS put_requests,
  COUNT_IF(
    COALESCE(operation IN ('REST.DELETE.OBJECT', 'REST.POST.MULTI_OBJECT_DELETE'), FALSE)
  ) AS delete_requests,
  COUNT_IF(COALESCE(operation IN ('REST.HEAD.OBJECT', 'WEBSITE.HEAD.OBJECT'), FALSE)) AS head_requests,
  COUNT_IF(COALESCE(operation IN ('REST.GET.BUCKET', 'REST.GET.BUCKETVERSIONS'), FALSE)) AS list_requests,
  COUNT_IF(COALESCE(http_status >= 400 AND http_status < 500, FALSE)) AS errors_4xx,
  COUNT_IF(COALESCE(http_status >= 500, FALSE)) AS errors_5xx,
  SUM(
    CASE
      WHEN operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT')
      THEN COALESCE(bytes_sent, 0)
      ELSE 0
    END
  ) AS bytes_downloaded,
  SUM(
    CASE
      WHEN operation IN ('REST.PUT.OBJECT', 'REST.PUT.PART', 'REST.POST.UPLOAD')
      THEN COALESCE(object_size, 0)
      ELSE 0
    END
  ) AS bytes_uploaded
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND operation NOT LIKE 'BATCH.%'
  AND operation NOT LIKE 'S3.%'
GROUP BY
  bucket,
  TO_TIMESTAMP(FLOOR(EPOCH(time) / 300) * 300)
ORDER BY
  bucket,
  period
