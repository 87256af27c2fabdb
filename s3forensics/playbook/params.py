"""Notebook parameters checked before anything runs, and setup results that prove the account answered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from s3forensics.errors import ParameterError, S3ForensicsError

_KIND_NAMES = {bool: "True or False", int: "a whole number", float: "a number", str: "text in quotes", list: 'a list like ["a", "b"]'}


def expect(**parameters: tuple[Any, type | tuple[type, ...]]) -> None:
    """Check notebook parameters' types: ``expect(BUCKETS=(BUCKETS, list), TOP=(TOP, int))``.

    Raises:
        ParameterError: one sentence naming the first parameter of the wrong type.
    """
    for name, (value, kinds) in parameters.items():
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            wanted = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            raise ParameterError(f"Parameter {name} must be {wanted}, got {type(value).__name__} {value!r}: change it in the parameters cell or -p {name} ...")


def require_reachable(results: Sequence[Any]) -> Sequence[Any]:
    """Stop with one sentence when no setup check could reach the account.

    Raises:
        S3ForensicsError: every result is UNKNOWN (unreachable endpoint, no credentials,
            or no permission at all); the message quotes the first reason.
    """
    if not results:
        raise S3ForensicsError("No setup check ran: set BUCKETS to buckets of this account, or leave it empty to check them all.")
    if all(str(getattr(r, "status", "")) == "UNKNOWN" for r in results):
        reason = results[0].message
        raise S3ForensicsError(
            f"The account could not be checked ({reason}): check the AWS credentials, profile and region, "
            "or the permissions listed by `s3forensics check --iam-policy`."
        )
    return results
