"""What every resource kind shares: the AWS session, the :class:`ResourceKind` contract
(read, write, compare, name), one way to read a state that may be absent, and
:class:`ApiCall`, one boto3 call written down.

:mod:`s3forensics.actions.resources` registers the kinds an action changes,
:mod:`s3forensics.actions.settings` the account settings a check fix changes; both are
applied by the one engine, :func:`s3forensics.actions.resources.execute`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from s3forensics import aws
from s3forensics.errors import ActionError


@dataclass(frozen=True)
class ApiCall:
    """One boto3 call: ``<service>.<operation>(**params)`` in ``region``."""

    service: str
    operation: str
    params: Mapping[str, Any]
    region: str | None = None

    def describe(self) -> str:
        """``s3.put_bucket_logging(Bucket='x', ...)``-style text with JSON parameters."""
        where = f" [{self.region}]" if self.region else ""
        return f"{self.service}.{self.operation}{where} {json.dumps(dict(self.params), sort_keys=True, default=str)}"


# --- sessions -----------------------------------------------------------------------

_SESSION_ENV = (
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)
_SESSIONS: dict[tuple[str | None, ...], Any] = {}


def default_session() -> Any:
    """A boto3 session from the standard chain, reused while its environment is unchanged.

    Building a session loads the service models again (a few tenths of a second per
    service); plans, execution and rollback share one, like boto3's own default session.
    """
    key = tuple(os.environ.get(name) for name in _SESSION_ENV)
    if key not in _SESSIONS:
        from botocore.exceptions import BotoCoreError

        _SESSIONS.clear()
        try:
            _SESSIONS[key] = aws.session()
        except BotoCoreError as exc:
            raise ActionError(f"could not set up an AWS session: {aws.explain(exc)}") from exc
    return _SESSIONS[key]


def client(service: str, session: Any | None, **kwargs: Any) -> Any:
    """A client for ``service`` on ``session`` (default: :func:`default_session`).

    ``session`` may also be a check :class:`~s3forensics.checks.base.Context` (anything with
    ``client(service, region)`` and no boto3 service list): its cached clients are used, so
    a fix and its checks share clients, retries and test stubs.
    """
    if session is not None and not hasattr(session, "get_available_services"):
        return session.client(service, kwargs.get("region_name"))
    return aws.client(service, session or default_session(), **kwargs)



def read_or_absent(what: str, name: str, call: Callable[[], Any], absent: str | Collection[str] | None = None) -> Any:
    """``call()``; None when AWS answers with the code ``absent`` (or one of the codes: nothing
    configured), and an ActionError naming ``what`` and ``name`` for any other failure."""
    from botocore.exceptions import BotoCoreError, ClientError

    codes = {absent} if isinstance(absent, str) else set(absent or ())
    try:
        return call()
    except ClientError as exc:
        if aws.error_code(exc) in codes:
            return None
        raise aws_error(what, name, exc) from exc
    except BotoCoreError as exc:
        raise aws_error(what, name, exc) from exc


def equal(a: Any, b: Any) -> bool:
    """Plain equality (the default comparison of two states)."""
    return a == b


@dataclass(frozen=True)
class ResourceKind:
    """How to read, write, compare and name one kind of resource."""

    kind: str
    describe: Callable[[Mapping[str, Any]], str]
    read: Callable[[Mapping[str, Any], Any], Any]
    write: Callable[..., None]
    same: Callable[[Any, Any], bool] = equal
    #: ``holds(actual, wanted)``: the state read back holds what was written (default:
    #: :attr:`same`; settings whose read adds defaults compare only what was written).
    holds: Callable[[Any, Any], bool] | None = None
    #: ``calls(target, state, session)``: the API calls a write of ``state`` makes, for a
    #: dry run to show (kinds that write more than one way leave it None).
    calls: Callable[[Mapping[str, Any], Any, Any], list[ApiCall]] | None = None
    #: False for actions that cannot be undone (a published message).
    reversible: bool = True

    def name(self, target: Any) -> str:
        """The resource's human name; a target missing its keys (a hand-edited audit
        record) is named as it stands instead of failing."""
        try:
            return self.describe(target)
        except (KeyError, TypeError, AttributeError):
            return f"{self.kind} {json.dumps(target, default=str)}"

    def held(self, actual: Any, wanted: Any) -> bool:
        """True when ``actual`` (read back after a write) holds ``wanted``."""
        return (self.holds or self.same)(actual, wanted)


def aws_error(what: str, name: str, exc: BaseException) -> ActionError:
    """An ActionError: could not ``what`` ``name``, and AWS's reason in one sentence."""
    return ActionError(f"could not {what} {name}: {aws.explain(exc)}")
