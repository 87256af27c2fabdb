"""Names and layout of the demo account, shared by the sandbox seed and the generator.

Account and addresses are documentation values (account 111122223333, IPs from the
TEST-NET ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from s3forensics.detections.config import DetectionConfig

ACCOUNT_ID = "111122223333"
REGION = "us-east-1"

#: The public static website (served to browsers; public read by design).
SITE_BUCKET = "s3f-demo-site"
#: Private data the site's back office exports (never public).
DATA_BUCKET = "s3f-demo-data"
#: An old archive bucket: the "made public, logging disabled" incident happens here.
ARCHIVE_BUCKET = "s3f-demo-archive"
#: Receives server access logs.
LOG_BUCKET = "s3f-demo-logs"
#: Receives CloudTrail log files.
TRAIL_BUCKET = "s3f-demo-cloudtrail"
TRAIL_NAME = "s3f-demo-trail"

#: Server access logs of the site use the date-partitioned layout:
#: ``<prefix><account>/<region>/<bucket>/YYYY/MM/DD/YYYY-MM-DD-HH-MM-SS-<16 hex>``.
SITE_LOG_PREFIX = "s3-access/site/"
#: The data and archive buckets use the simple layout: ``<prefix>YYYY-MM-DD-HH-MM-SS-<16 hex>``.
DATA_LOG_PREFIX = "s3-access/data/"
ARCHIVE_LOG_PREFIX = "s3-access/archive/"

DEPLOY_ROLE = "site-deploy"
ANALYTICS_ROLE = "analytics-export"
ADMIN_USER = "ops-admin"
#: The CI user that assumes the deploy role (appears in the demo world's CloudTrail only).
CI_USER = "ci-deploy"

#: The canonical owner id S3 writes as bucket owner in access logs (64 hex digits).
CANONICAL_OWNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


def role_arn(name: str) -> str:
    """ARN of a role in the demo account."""
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"


def user_arn(name: str) -> str:
    """ARN of an IAM user in the demo account."""
    return f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"


def demo_config() -> DetectionConfig:
    """The demo world's configuration: the site is public by design, data and archive private."""
    # Imported here: the sandbox's seed reads this module's names and needs no detections.
    from s3forensics.detections.config import BucketConfig, DetectionConfig

    return DetectionConfig(
        buckets={
            SITE_BUCKET: BucketConfig(profile="public_site"),
            DATA_BUCKET: BucketConfig(profile="private_data"),
            ARCHIVE_BUCKET: BucketConfig(profile="private_data"),
        },
        own_accounts=(ACCOUNT_ID,),
    )
