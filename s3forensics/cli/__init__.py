"""The ``s3forensics`` command line: thin, it parses arguments and calls the library.

Each command group is a module of this package with ``register(subparsers)``; the registry
below lists them explicitly and imports only the one a command needs. The command line is
the top layer: it may use the library and the lab, and nothing imports it. Output contracts (``convert``, ``detect``, ``check``,
``respond``) are relied on by users' scripts: keep them stable.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from s3forensics import __version__
from s3forensics.errors import S3ForensicsError

#: Command -> (module that registers it, one-line help). Each module has
#: ``register(subparsers)``; only the module of the command being run is imported, so
#: ``s3forensics sandbox status`` does not pay for pandas, DuckDB or sqlglot.
COMMANDS: dict[str, tuple[str, str]] = {
    "sandbox": ("s3forensics.cli.sandbox", "run a local sandbox AWS account (moto on 127.0.0.1)"),
    "demo-data": ("s3forensics.cli.demo", "generate the demo world's logs and ground truth"),
    "convert": ("s3forensics.cli.sources", "convert S3 access logs or CloudTrail to JSON lines or Parquet"),
    "sync": ("s3forensics.cli.sources", "parse logs into the local Parquet cache"),
    "query": ("s3forensics.cli.queries", "run a query of the SQL library (DuckDB by default, or Athena)"),
    "athena": ("s3forensics.cli.queries", "Athena tables and views over the log buckets"),
    "detect": ("s3forensics.cli.detect", "run the anomaly detections over access logs and CloudTrail"),
    "check": ("s3forensics.cli.check", "setup checks: can this account detect and investigate?"),
    "respond": ("s3forensics.cli.respond", "response actions: block, contain, notify, roll back"),
    "automate": ("s3forensics.cli.respond", "the Lambda that blocks and notifies: package, plan, deploy"),
    "report": ("s3forensics.cli.report", "run a notebook with papermill and render offline HTML"),
    "demo": ("s3forensics.cli.demo", "the main job: sandbox, demo world, all notebooks, reports"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with ``command`` fully registered (``"*"``: every command).

    Commands that are not registered are listed with their help line, so ``--help``
    shows them all without importing them.
    """
    parser = argparse.ArgumentParser(
        prog="s3forensics",
        description="Watch over S3 static sites, investigate suspicious access, respond.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = set(COMMANDS) if command == "*" else ({command} if command in COMMANDS else set())
    for module_name in dict.fromkeys(COMMANDS[name][0] for name in COMMANDS if name in wanted):
        importlib.import_module(module_name).register(subparsers)
    for name, (_, help_text) in COMMANDS.items():
        if name not in subparsers.choices:
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


class _OneLine(logging.Formatter):
    """Log records without their tracebacks (shown with -v)."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    existing = list(logging.getLogger().handlers)
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # Dependencies log their own tracebacks (pyathena on every failed query): at the
        # default verbosity a log line is one line; -v shows them.
        for log_handler in logging.getLogger().handlers:
            if log_handler not in existing:
                log_handler.setFormatter(_OneLine("%(levelname)s %(name)s: %(message)s"))
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except S3ForensicsError as exc:
        print(f"s3forensics {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # The file system (a full disk, a folder where a file belongs, no permission).
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"s3forensics {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as Unix tools do.
        sys.stderr.close()
        return 141


if __name__ == "__main__":
    sys.exit(main())
