-- description: Requests whose user agent names a scanner, fuzzer or offensive tool (or a penetration-testing distribution).
-- sources: s3_access, cloudtrail
-- param user_agent_pattern: varchar = '(?i)(nikto|sqlmap|nuclei|masscan|zgrab|nmap|gobuster|dirbuster|dirb/|ffuf|wfuzz|feroxbuster|acunetix|nessus|openvas|qualys|burp|zap/|whatweb|wpscan|httpx|s3scanner|bucket_finder|cloudbrute|trufflehog|gitleaks|pacu|kali|parrot|pentoo)' -- case-insensitive regular expression a tool's user agent matches
-- param min_requests: integer = 3 -- fewest matching requests from one source to one bucket
-- param allow_user_agents: array(varchar) = [] -- exact user agents never reported (an authorised scanner)
WITH hits AS (
    SELECT bucket, remote_ip AS source_ip, requester AS principal, user_agent, key, request_id, time, http_status
    FROM s3_access
    WHERE time >= :start
      AND time < :end
      AND regexp_like(user_agent, :user_agent_pattern)
      AND NOT contains(:allow_user_agents, user_agent)
    UNION ALL
    SELECT bucket_name AS bucket, source_ip_address AS source_ip, user_identity_arn AS principal, user_agent,
           object_key AS key, request_id, event_time AS time, CASE WHEN nullif(error_code, '') IS NULL THEN 200 ELSE 403 END AS http_status
    FROM cloudtrail
    WHERE event_time >= :start
      AND event_time < :end
      AND regexp_like(user_agent, :user_agent_pattern)
      AND NOT contains(:allow_user_agents, user_agent)
)
SELECT
    bucket,
    source_ip,
    max(principal) AS principal,
    user_agent,
    min(time) AS first_seen,
    max(time) AS last_seen,
    count(*) AS event_count,
    CAST(0 AS bigint) AS bytes,
    count_if(http_status >= 400) AS errors,
    slice(array_agg(DISTINCT key), 1, 10) AS sample_keys,
    slice(array_agg(DISTINCT request_id), 1, 10) AS sample_request_ids
FROM hits
GROUP BY bucket, source_ip, user_agent
HAVING count(*) >= :min_requests
