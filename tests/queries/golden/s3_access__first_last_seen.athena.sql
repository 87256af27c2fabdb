SELECT
  remote_ip,
  requester,
  MIN(time) AS first_seen,
  MAX(time) AS last_seen,
  COUNT(*) AS requests,
  COUNT(DISTINCT bucket) AS buckets,
  COUNT(DISTINCT operation) AS operations
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
  AND (
    '' = '' OR requester = '' OR remote_ip = ''
  )
GROUP BY
  remote_ip,
  requester
ORDER BY
  first_seen,
  remote_ip,
  requester NULLS FIRST
