-- S3 server access logs as AWS writes them (27 space-separated fields; quoted request-URI,
-- referer and user agent), over the date-partitioned key layout
-- <prefix><account>/<region>/<source bucket>/YYYY/MM/DD/... with partition projection:
-- source_bucket (enum) and date ('yyyy/MM/dd'). Older lines with fewer fields leave the
-- missing trailing columns null. AWS does not escape quotes inside the quoted fields: the
-- request-URI ends at the quote followed by a 3-digit status, the user agent at the last
-- quote of the line (no later field is quoted). Bound by `s3forensics athena setup`: :location,
-- :template, :source_buckets, :date_range.
CREATE EXTERNAL TABLE IF NOT EXISTS s3_access_raw (
  bucketowner STRING,
  bucket_name STRING,
  requestdatetime STRING,
  remoteip STRING,
  requester STRING,
  requestid STRING,
  operation STRING,
  `key` STRING,
  request_uri STRING,
  httpstatus STRING,
  errorcode STRING,
  bytessent STRING,
  objectsize STRING,
  totaltime STRING,
  turnaroundtime STRING,
  referrer STRING,
  useragent STRING,
  versionid STRING,
  hostid STRING,
  sigv STRING,
  ciphersuite STRING,
  authtype STRING,
  endpoint STRING,
  tlsversion STRING,
  accesspointarn STRING,
  aclrequired STRING,
  sourceregion STRING
)
PARTITIONED BY (source_bucket STRING, `date` STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
WITH SERDEPROPERTIES ('input.regex' = '([^ ]*) ([^ ]*) \\[([^\\]]*)\\] ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) (".*?"|-) (-|[0-9]{3}) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) (".*?"|-) (".*"|-)(?: ([^ ]*))?(?: ([^ ]*))?(?: ([^ ]*))?(?: ([^ ]*))?(?: ([^ ]*))?(?: ([^ ]*))?(?: ([^ ]*))?(?: ([^ ]*))?(?: ([^ ]*))?(?: ([^ ]*))?.*$')
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION :location
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.source_bucket.type' = 'enum',
  'projection.source_bucket.values' = :source_buckets,
  'projection.date.type' = 'date',
  'projection.date.format' = 'yyyy/MM/dd',
  'projection.date.range' = :date_range,
  'projection.date.interval' = '1',
  'projection.date.interval.unit' = 'DAYS',
  'storage.location.template' = :template
)
