-- description: What CloudTrail shows about how each bucket is meant to be read: anonymous object reads that succeeded (data events, userIdentity.accountId ANONYMOUS_PRINCIPAL), website configurations put, and bucket policies naming CloudFront (origin access control's service principal or an origin access identity).
-- sources: cloudtrail
SELECT
    bucket_name AS bucket,
    sum(CASE
        WHEN event_name IN ('GetObject', 'HeadObject') AND user_identity_account_id = 'ANONYMOUS_PRINCIPAL'
             AND nullif(error_code, '') IS NULL THEN 1
        ELSE 0
    END) AS anonymous_reads,
    count(DISTINCT CASE
        WHEN event_name IN ('GetObject', 'HeadObject') AND user_identity_account_id = 'ANONYMOUS_PRINCIPAL'
             AND nullif(error_code, '') IS NULL THEN source_ip_address
    END) AS anonymous_addresses,
    count(DISTINCT CASE
        WHEN event_name IN ('GetObject', 'HeadObject') AND user_identity_account_id = 'ANONYMOUS_PRINCIPAL'
             AND nullif(error_code, '') IS NULL THEN date_trunc('day', event_time)
    END) AS anonymous_days,
    sum(CASE WHEN event_name = 'PutBucketWebsite' AND nullif(error_code, '') IS NULL THEN 1 ELSE 0 END) AS website_puts,
    sum(CASE
        WHEN event_name = 'PutBucketPolicy' AND nullif(error_code, '') IS NULL
             AND (request_parameters LIKE '%cloudfront.amazonaws.com%' OR request_parameters LIKE '%CloudFront Origin Access Identity%') THEN 1
        ELSE 0
    END) AS cloudfront_policies
FROM cloudtrail
WHERE event_time >= :start
  AND event_time < :end
  AND event_source = 's3.amazonaws.com'
  AND bucket_name IS NOT NULL
GROUP BY bucket_name
ORDER BY bucket_name
