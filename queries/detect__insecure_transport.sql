-- description: Insecure transport: plain HTTP or an outdated TLS version on a private bucket, or signed requests over plain HTTP anywhere.
-- sources: s3_access
-- param weak_tls_versions: array(varchar) = ["TLSv1", "TLSv1.1", "SSLv3"] -- TLS versions counted as outdated
-- param min_requests: integer = 1 -- fewest insecure requests from one source to report
-- param public_buckets: array(varchar) = [] -- buckets public by design, served over HTTP by the website endpoint: only signed requests count there
-- param allow_principals: array(varchar) = [] -- requester ARNs never reported
WITH insecure AS (
    SELECT
        bucket,
        remote_ip,
        coalesce(requester, '') AS principal_key,
        coalesce(tls_version, 'plain HTTP') AS transport,
        key,
        request_id,
        bytes_sent,
        time
    FROM s3_access
    WHERE time >= :start
      AND time < :end
      AND (tls_version IS NULL OR contains(:weak_tls_versions, tls_version))
      AND operation NOT LIKE 'BATCH.%'
      AND operation NOT LIKE 'S3.%'
      AND (signature_version IS NOT NULL OR NOT contains(:public_buckets, bucket))
      AND NOT contains(:allow_principals, coalesce(requester, ''))
)
SELECT
    bucket,
    remote_ip AS source_ip,
    nullif(principal_key, '') AS principal,
    transport,
    min(time) AS first_seen,
    max(time) AS last_seen,
    count(*) AS event_count,
    sum(coalesce(bytes_sent, 0)) AS bytes,
    ARRAY[min(key), max(key)] AS sample_keys,
    ARRAY[min(request_id), max(request_id)] AS sample_request_ids
FROM insecure
GROUP BY bucket, remote_ip, principal_key, transport
HAVING count(*) >= :min_requests
