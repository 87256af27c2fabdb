SELECT
  bucket,
  remote_ip AS source_ip,
  MAX(requester) AS principal,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen,
  COUNT(*) AS event_count,
  SUM(COALESCE(bytes_sent, 0)) AS bytes,
  COUNT(DISTINCT key) AS keys,
  COUNT_IF(http_status < 300) AS served,
  SLICE(ARRAY_AGG(DISTINCT key), 1, 10) AS sample_keys,
  SLICE(ARRAY_AGG(DISTINCT request_id), 1, 10) AS sample_request_ids
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
  AND NOT key IS NULL
  AND (
    operation LIKE 'REST.GET.%'
    OR operation LIKE 'REST.HEAD.%'
    OR operation LIKE 'WEBSITE.%'
  )
  AND REGEXP_LIKE(
    key,
    '(?i)((^|/)\.env($|[./])|(^|/)\.git(/|$)|(^|/)\.svn/|(^|/)\.hg/|id_(rsa|dsa|ecdsa|ed25519)($|\.)|\.(pem|key|p12|pfx|ppk|jks|keystore)$|(^|/)\.aws/credentials|(^|/)\.ssh/|(^|/)\.htpasswd$|(^|/)\.npmrc$|(^|/)\.docker/config\.json$|wp-config\.php|(^|/)credentials\.json$|(^|/)secrets?\.(ya?ml|json)$)'
  )
  AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(requester, ''))
  AND NOT CONTAINS(CAST(ARRAY[] AS ARRAY(VARCHAR)), COALESCE(user_agent, ''))
GROUP BY
  bucket,
  remote_ip
HAVING
  COUNT(DISTINCT key) >= 3
