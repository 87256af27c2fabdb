"""A catalogue of S3 anomaly detections over access logs and CloudTrail.

``run_detections(engine, start, end)`` runs every detection of ``DETECTIONS`` and returns
findings in one shape (``FINDING_COLUMNS``). Each detection is a small unit with its
metadata, its logic as a library query (``queries/detect__*.sql``) and its test cases.
"""

from s3forensics.detections.base import Case, Detection
from s3forensics.detections.config import Allowlist, BucketConfig, DetectionConfig
from s3forensics.detections.registry import DETECTION_IDS, DETECTIONS, get_detection
from s3forensics.detections.runner import DetectionRun, resolve_params, run_detections
from s3forensics.vocabulary import FINDING_COLUMNS, SEVERITIES

__all__ = [
    "DETECTIONS",
    "DETECTION_IDS",
    "FINDING_COLUMNS",
    "SEVERITIES",
    "Allowlist",
    "BucketConfig",
    "Case",
    "Detection",
    "DetectionConfig",
    "DetectionRun",
    "get_detection",
    "resolve_params",
    "run_detections",
]
