-- description: Bucket configuration changes from CloudTrail: policy, ACL, public access block, logging, lifecycle, replication.
-- sources: cloudtrail
-- param event_names: array(varchar) = ["PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock", "PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock", "PutBucketLogging", "PutBucketLifecycle", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle", "PutBucketReplication", "DeleteBucketReplication", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls", "PutBucketWebsite", "DeleteBucketWebsite", "PutBucketVersioning", "PutBucketEncryption", "DeleteBucketEncryption"] -- CloudTrail events that change a bucket's configuration
SELECT
  event_time,
  bucket_name,
  event_name,
  user_identity_arn,
  source_ip_address,
  user_agent,
  error_code,
  request_parameters,
  event_id
FROM cloudtrail
WHERE event_time >= :start AND event_time < :end
  AND event_source = 's3.amazonaws.com'
  AND contains(:event_names, event_name)
ORDER BY event_time, event_id
