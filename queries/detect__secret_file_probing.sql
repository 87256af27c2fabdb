-- description: Probing for secret files (.env, .git/, SSH keys, *.pem, cloud credentials) on a bucket.
-- sources: s3_access
-- param key_pattern: varchar = '(?i)((^|/)\.env($|[./])|(^|/)\.git(/|$)|(^|/)\.svn/|(^|/)\.hg/|id_(rsa|dsa|ecdsa|ed25519)($|\.)|\.(pem|key|p12|pfx|ppk|jks|keystore)$|(^|/)\.aws/credentials|(^|/)\.ssh/|(^|/)\.htpasswd$|(^|/)\.npmrc$|(^|/)\.docker/config\.json$|wp-config\.php|(^|/)credentials\.json$|(^|/)secrets?\.(ya?ml|json)$)' -- case-insensitive regular expression of secret-looking keys
-- param min_distinct_keys: integer = 3 -- fewest distinct secret-looking keys one source asked for
-- param allow_principals: array(varchar) = [] -- requester ARNs never reported
-- param allow_user_agents: array(varchar) = [] -- exact user agents never reported
SELECT
    bucket,
    remote_ip AS source_ip,
    max(requester) AS principal,
    min(time) AS first_seen,
    max(time) AS last_seen,
    count(*) AS event_count,
    sum(coalesce(bytes_sent, 0)) AS bytes,
    count(DISTINCT key) AS keys,
    count_if(http_status < 300) AS served,
    slice(array_agg(DISTINCT key), 1, 10) AS sample_keys,
    slice(array_agg(DISTINCT request_id), 1, 10) AS sample_request_ids
FROM s3_access
WHERE time >= :start
  AND time < :end
  AND key IS NOT NULL
  AND (operation LIKE 'REST.GET.%' OR operation LIKE 'REST.HEAD.%' OR operation LIKE 'WEBSITE.%')
  AND regexp_like(key, :key_pattern)
  AND NOT contains(:allow_principals, coalesce(requester, ''))
  AND NOT contains(:allow_user_agents, coalesce(user_agent, ''))
GROUP BY bucket, remote_ip
HAVING count(DISTINCT key) >= :min_distinct_keys
