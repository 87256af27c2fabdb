SELECT
  bucket_name AS bucket,
  SUM(
    CASE
      WHEN event_name IN ('GetObject', 'HeadObject')
      AND user_identity_account_id = 'ANONYMOUS_PRINCIPAL'
      AND NULLIF(error_code, '') IS NULL
      THEN 1
      ELSE 0
    END
  ) AS anonymous_reads,
  COUNT(
    DISTINCT CASE
      WHEN event_name IN ('GetObject', 'HeadObject')
      AND user_identity_account_id = 'ANONYMOUS_PRINCIPAL'
      AND NULLIF(error_code, '') IS NULL
      THEN source_ip_address
    END
  ) AS anonymous_addresses,
  COUNT(
    DISTINCT CASE
      WHEN event_name IN ('GetObject', 'HeadObject')
      AND user_identity_account_id = 'ANONYMOUS_PRINCIPAL'
      AND NULLIF(error_code, '') IS NULL
      THEN DATE_TRUNC('DAY', event_time)
    END
  ) AS anonymous_days,
  SUM(
    CASE
      WHEN event_name = 'PutBucketWebsite' AND NULLIF(error_code, '') IS NULL
      THEN 1
      ELSE 0
    END
  ) AS website_puts,
  SUM(
    CASE
      WHEN event_name = 'PutBucketPolicy'
      AND NULLIF(error_code, '') IS NULL
      AND (
        request_parameters LIKE '%cloudfront.amazonaws.com%'
        OR request_parameters LIKE '%CloudFront Origin Access Identity%'
      )
      THEN 1
      ELSE 0
    END
  ) AS cloudfront_policies
FROM (
  SELECT
    *
  FROM s3forensics.cloudtrail
  WHERE
    "date" BETWEEN '2026/11/16' AND '2026/11/22'
) AS cloudtrail
WHERE
  event_time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND event_time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND event_source = 's3.amazonaws.com'
  AND NOT bucket_name IS NULL
GROUP BY
  bucket_name
ORDER BY
  bucket_name
