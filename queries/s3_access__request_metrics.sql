-- description: CloudWatch-style S3 request metrics per bucket per period (GetRequests, 4xxErrors, BytesDownloaded...), for alarm backtests.
-- sources: s3_access
-- param period_seconds: integer = 300 -- metric period, in seconds (CloudWatch periods are multiples of 60)
SELECT
    bucket,
    from_unixtime(floor(to_unixtime(time) / :period_seconds) * :period_seconds) AS period,
    count(*) AS all_requests,
    count_if(operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT')) AS get_requests,
    count_if(operation IN ('REST.PUT.OBJECT', 'REST.POST.UPLOAD', 'REST.PUT.PART', 'REST.COPY.OBJECT')) AS put_requests,
    count_if(operation IN ('REST.DELETE.OBJECT', 'REST.POST.MULTI_OBJECT_DELETE')) AS delete_requests,
    count_if(operation IN ('REST.HEAD.OBJECT', 'WEBSITE.HEAD.OBJECT')) AS head_requests,
    count_if(operation IN ('REST.GET.BUCKET', 'REST.GET.BUCKETVERSIONS')) AS list_requests,
    count_if(http_status >= 400 AND http_status < 500) AS errors_4xx,
    count_if(http_status >= 500) AS errors_5xx,
    sum(CASE WHEN operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT') THEN coalesce(bytes_sent, 0) ELSE 0 END) AS bytes_downloaded,
    sum(CASE WHEN operation IN ('REST.PUT.OBJECT', 'REST.PUT.PART', 'REST.POST.UPLOAD') THEN coalesce(object_size, 0) ELSE 0 END) AS bytes_uploaded
FROM s3_access
WHERE time >= :start
  AND time < :end
  AND operation NOT LIKE 'BATCH.%'
  AND operation NOT LIKE 'S3.%'
GROUP BY bucket, from_unixtime(floor(to_unixtime(time) / :period_seconds) * :period_seconds)
ORDER BY bucket, period
