"""Log sources: raw S3 server access logs and CloudTrail -> typed rows in the canonical schema.

``load_s3_access`` and ``load_cloudtrail`` return a ``LoadResult`` (``.frame``, ``.report``);
``s3forensics.sources.cache.sync`` parses into the Parquet cache; ``convert`` streams to
JSON lines or Parquet. Nothing here touches AWS or files at import time.
"""

from s3forensics.sources.cloudtrail import parse_records
from s3forensics.sources.load import load_cloudtrail, load_s3_access
from s3forensics.sources.report import LoadReport, LoadResult, Reject, SkippedFile
from s3forensics.sources.s3_access import key_decoded, parse_line, parse_lines

__all__ = [
    "LoadReport",
    "LoadResult",
    "Reject",
    "SkippedFile",
    "key_decoded",
    "load_cloudtrail",
    "load_s3_access",
    "parse_line",
    "parse_lines",
    "parse_records",
]
