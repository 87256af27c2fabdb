-- description: Access keys seen in CloudTrail per source IP and identity, with first and last use.
-- sources: cloudtrail
SELECT
  source_ip_address,
  user_identity_type,
  user_identity_arn,
  user_identity_user_name,
  user_identity_access_key_id,
  count(*) AS events,
  min(event_time) AS first_seen,
  max(event_time) AS last_seen
FROM cloudtrail
WHERE event_time >= :start AND event_time < :end
  AND user_identity_access_key_id IS NOT NULL
GROUP BY source_ip_address, user_identity_type, user_identity_arn, user_identity_user_name, user_identity_access_key_id
ORDER BY first_seen, source_ip_address, user_identity_access_key_id
