-- The logical table s3_access on Athena: canonical columns (s3forensics.schema), '-' as
-- null, times as UTC timestamps, plus the partition column "date" ('yyyy/MM/dd') that the
-- renderer constrains from :start/:end so partition projection prunes the days read.
CREATE OR REPLACE VIEW s3_access AS
SELECT
  nullif(bucketowner, '-') AS bucket_owner,
  nullif(bucket_name, '-') AS bucket,
  CAST(parse_datetime(requestdatetime, 'dd/MMM/yyyy:HH:mm:ss Z') AT TIME ZONE 'UTC' AS timestamp) AS time,
  nullif(remoteip, '-') AS remote_ip,
  nullif(requester, '-') AS requester,
  nullif(requestid, '-') AS request_id,
  nullif(operation, '-') AS operation,
  nullif("key", '-') AS "key",
  CASE WHEN request_uri = '-' OR request_uri = '"-"' THEN NULL ELSE substr(request_uri, 2, length(request_uri) - 2) END AS request_uri,
  try_cast(nullif(httpstatus, '-') AS integer) AS http_status,
  nullif(errorcode, '-') AS error_code,
  try_cast(nullif(bytessent, '-') AS bigint) AS bytes_sent,
  try_cast(nullif(objectsize, '-') AS bigint) AS object_size,
  try_cast(nullif(totaltime, '-') AS bigint) AS total_time,
  try_cast(nullif(turnaroundtime, '-') AS bigint) AS turn_around_time,
  CASE WHEN referrer = '-' OR referrer = '"-"' THEN NULL ELSE substr(referrer, 2, length(referrer) - 2) END AS referer,
  CASE WHEN useragent = '-' OR useragent = '"-"' THEN NULL ELSE substr(useragent, 2, length(useragent) - 2) END AS user_agent,
  nullif(versionid, '-') AS version_id,
  nullif(hostid, '-') AS host_id,
  nullif(sigv, '-') AS signature_version,
  nullif(ciphersuite, '-') AS cipher_suite,
  nullif(authtype, '-') AS authentication_type,
  nullif(endpoint, '-') AS host_header,
  nullif(tlsversion, '-') AS tls_version,
  nullif(accesspointarn, '-') AS access_point_arn,
  nullif(aclrequired, '-') AS acl_required,
  nullif(sourceregion, '-') AS source_region,
  "date"
FROM s3_access_raw
