"""Query engines: embedded DuckDB (default) and Amazon Athena, behind one ``Engine`` base.

``get_engine(name)`` imports the engine's module only when asked, so a DuckDB-only run
never imports boto3 or pyathena.
"""

from __future__ import annotations

import importlib
from typing import Any

from s3forensics.engines.base import Engine, ExecResult, QueryStats
from s3forensics.errors import EngineError

#: Engine name -> "module:class", imported lazily.
ENGINES: dict[str, str] = {
    "duckdb": "s3forensics.engines.duckdb_engine:DuckDBEngine",
    "athena": "s3forensics.engines.athena:AthenaEngine",
}


def get_engine(name: str = "duckdb", **kwargs: Any) -> Engine:
    """A new engine by name (``duckdb`` or ``athena``), built with ``kwargs``.

    Raises:
        EngineError: the name is unknown.
    """
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")
    module_name, class_name = ENGINES[name].split(":")
    engine_class = getattr(importlib.import_module(module_name), class_name)
    return engine_class(**kwargs)


__all__ = ["ENGINES", "Engine", "ExecResult", "QueryStats", "get_engine"]
