SELECT
  bucket,
  remote_ip AS source_ip,
  MAX(requester) AS principal,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen,
  COUNT(*) AS event_count,
  SUM(COALESCE(bytes_sent, 0)) AS bytes,
  COUNT(DISTINCT key) AS keys,
  COUNT_IF(COALESCE(http_status < 300, FALSE)) AS served,
  ARRAY_SLICE(ARRAY_AGG(DISTINCT key), 1, 10) AS sample_keys,
  ARRAY_SLICE(ARRAY_AGG(DISTINCT request_id), 1, 10) AS sample_request_ids
FROM s3_access AS s3_access
WHERE
  time >= CAST('2026-11-16 00:00:00' AS TIMESTAMP)
  AND time < CAST('2026-11-23 00:00:00' AS TIMESTAMP)
  AND NOT key IS NULL
  AND (
    operation LIKE 'REST.GET.%'
    OR operation LIKE 'REST.HEAD.%'
    OR operation LIKE 'WEBSITE.%'
  )
  AND REGEXP_MATCHES(
    key,
    '(?i)((^|/)\.env($|[./])|(^|/)\.git(/|$)|(^|/)\.svn/|(^|/)\.hg/|id_(rsa|dsa|ecdsa|ed25519)($|\.)|\.(pem|key|p12|pfx|ppk|jks|keystore)$|(^|/)\.aws/credentials|(^|/)\.ssh/|(^|/)\.htpasswd$|(^|/)\.npmrc$|(^|/)\.docker/config\.json$|wp-config\.php|(^|/)credentials\.json$|(^|/)secrets?\.(ya?ml|json)$)'
  )
  AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(requester, ''))
  AND NOT ARRAY_CONTAINS(CAST([] AS TEXT[]), COALESCE(user_agent, ''))
GROUP BY
  bucket,
  remote_ip
HAVING
  COUNT(DISTINCT key) >= 3
