"""The explicit registry of detections (a tuple that grep can find)."""

from __future__ import annotations

from s3forensics.detections import configuration, probing, recovery, traffic
from s3forensics.detections.base import Detection
from s3forensics.detections.baseline import BASELINE_DEVIATION
from s3forensics.errors import ParameterError

#: Every detection, in catalogue order.
DETECTIONS: tuple[Detection, ...] = (
    traffic.REQUEST_RATE_SPIKE,
    traffic.ACCESS_DENIED_BURST,
    traffic.ANONYMOUS_ACCESS_PRIVATE,
    traffic.LARGE_EGRESS,
    traffic.NEW_PRINCIPAL_OR_IP_READING,
    traffic.ENUMERATION,
    configuration.MASS_DELETE,
    configuration.BUCKET_MADE_PUBLIC,
    configuration.LOGGING_EVASION,
    probing.SCANNER_USER_AGENT,
    probing.SECRET_FILE_PROBING,
    probing.PRESIGNED_URL_ABUSE,
    probing.INSECURE_TRANSPORT,
    configuration.SSEC_REENCRYPTION,
    configuration.CROSS_ACCOUNT_COPY,
    recovery.RECOVERY_WEAKENED,
    recovery.RANSOM_NOTE,
    BASELINE_DEVIATION,
)

DETECTION_IDS: tuple[str, ...] = tuple(d.id for d in DETECTIONS)


def get_detection(detection_id: str) -> Detection:
    """The detection with id ``detection_id``.

    Raises:
        ParameterError: no such detection (the message lists the known ids).
    """
    for detection in DETECTIONS:
        if detection.id == detection_id:
            return detection
    raise ParameterError(f"unknown detection {detection_id!r} (known: {', '.join(DETECTION_IDS)})")
