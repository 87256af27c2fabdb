"""The Athena views of ``queries/ddl/`` give exactly the canonical columns of ``s3forensics.schema``.

The canonical schema is declared once (``schema.py``); the views are written by hand in
Athena's dialect, so this test holds them to it: the same columns in the same order (plus
the partition column ``date``), each typed as the schema types it. The DuckDB engine reads
the Parquet cache, which the loaders write with that schema, so both engines see one table.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from s3forensics.engines.athena import DDL_FILES, ddl_dir
from s3forensics.schema import TABLES

VIEWS = {"03_s3_access_view.sql": "s3_access", "04_cloudtrail_view.sql": "cloudtrail"}


def _projection(path: Path) -> list[exp.Expression]:
    tree = sqlglot.parse_one(path.read_text(encoding="utf-8"), read="athena")
    select = tree.find(exp.Select)
    assert select is not None, f"{path.name}: no SELECT"
    return list(select.expressions)


def _athena_type(typ: pa.DataType) -> str | None:
    """The Athena type a canonical Arrow type is cast to in a view (None: text, no cast)."""
    if pa.types.is_timestamp(typ):
        return "TIMESTAMP"
    if pa.types.is_int32(typ):
        return "INT"
    if pa.types.is_int64(typ):
        return "BIGINT"
    if pa.types.is_boolean(typ):
        return "BOOLEAN"
    if pa.types.is_list(typ):
        return "ARRAY"
    return None


def _outer_type(node: exp.Expression) -> str | None:
    """The type the expression's outermost cast gives, ``ARRAY`` for a transform, else None."""
    node = node.this if isinstance(node, exp.Alias) else node
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return node.to.sql(dialect="athena").upper().replace("INTEGER", "INT")
    if isinstance(node, exp.Transform) or (isinstance(node, exp.Anonymous) and node.name.lower() == "transform"):
        return "ARRAY"
    return None


def test_every_canonical_table_has_a_view_file() -> None:
    assert set(VIEWS) <= set(DDL_FILES)
    assert set(VIEWS.values()) == set(TABLES)


@pytest.mark.parametrize(("file_name", "table"), sorted(VIEWS.items()))
def test_view_columns_are_the_canonical_columns_in_order(file_name: str, table: str) -> None:
    schema, _ = TABLES[table]
    names = [e.alias_or_name for e in _projection(ddl_dir() / file_name)]
    assert names == [*schema.names, "date"], f"{file_name} and s3forensics.schema disagree"


@pytest.mark.parametrize(("file_name", "table"), sorted(VIEWS.items()))
def test_view_columns_have_the_canonical_types(file_name: str, table: str) -> None:
    schema, _ = TABLES[table]
    typed = dict(zip(schema.names, _projection(ddl_dir() / file_name), strict=False))
    wrong = {name: (_outer_type(typed[name]), _athena_type(schema.field(name).type))
             for name in schema.names if _outer_type(typed[name]) != _athena_type(schema.field(name).type)}
    assert not wrong, f"{file_name}: column -> (view's type, schema's type): {wrong}"


def test_a_view_out_of_step_with_the_schema_is_caught(tmp_path: Path) -> None:
    text = (ddl_dir() / "04_cloudtrail_view.sql").read_text(encoding="utf-8")
    swapped = text.replace("AS read_only", "AS read_only_x").replace("try_cast(managementevent AS boolean)", "managementevent")
    path = tmp_path / "04_cloudtrail_view.sql"
    path.write_text(swapped, encoding="utf-8")
    projection = _projection(path)
    assert [e.alias_or_name for e in projection].count("read_only_x") == 1
    by_name = {e.alias_or_name: e for e in projection}
    assert _outer_type(by_name["management_event"]) is None
    assert _athena_type(pa.bool_()) == "BOOLEAN"
