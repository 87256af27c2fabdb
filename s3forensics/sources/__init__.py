"""Log sources: raw S3 server access logs and CloudTrail -> typed rows in the canonical schema."""
