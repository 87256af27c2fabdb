WITH hits AS (
  SELECT
    bucket,
    remote_ip AS source_ip,
    requester AS principal,
    user_agent,
    key,
    request_id,
    time,
    http_status
  FROM (
    SELECT
      *
    FROM s3forensics.s3_access
    WHERE
      "date" BETWEEN '2026/11/16' AND '2026/11/22'
  ) AS s3_access
  WHERE
    time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
    AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
    AND REGEXP_LIKE(
      user_agent,
      '(?i)(nikto|sqlmap|nuclei|masscan|zgrab|nmap|gobuster|dirbuster|dirb/|ffuf|wfuzz|feroxbuster|acunetix|nessus|openvas|qualys|burp|zap/|whatweb|wpscan|httpx|s3scanner|bucket_finder|cloudbrute|trufflehog|gitleaks|pacu|kali|parrot|pentoo)'
    )
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), user_agent)
  UNION ALL
  SELECT
    bucket_name AS bucket,
    source_ip_address AS source_ip,
    user_identity_arn AS principal,
    user_agent,
    object_key AS key,
    request_id,
    event_time AS time,
    CASE WHEN NULLIF(error_code, '') IS NULL THEN 200 ELSE 403 END AS http_status
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
    AND REGEXP_LIKE(
      user_agent,
      '(?i)(nikto|sqlmap|nuclei|masscan|zgrab|nmap|gobuster|dirbuster|dirb/|ffuf|wfuzz|feroxbuster|acunetix|nessus|openvas|qualys|burp|zap/|whatweb|wpscan|httpx|s3scanner|bucket_finder|cloudbrute|trufflehog|gitleaks|pacu|kali|parrot|pentoo)'
    )
    AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), user_agent)
)
SELECT
  bucket,
  source_ip,
  MAX(principal) AS principal,
  user_agent,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen,
  COUNT(*) AS event_count,
  CAST(0 AS BIGINT) AS bytes,
  COUNT_IF(http_status >= 400) AS errors,
  SLICE(ARRAY_AGG(DISTINCT key), 1, 10) AS sample_keys,
  SLICE(ARRAY_AGG(DISTINCT request_id), 1, 10) AS sample_request_ids
FROM hits
GROUP BY
  bucket,
  source_ip,
  user_agent
HAVING
  COUNT(*) >= 3
