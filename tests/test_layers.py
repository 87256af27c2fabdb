"""The kit's layers point one way: library, then lab, then command line (notebooks on top).

The import graph is read from the sources with :mod:`ast` (every ``import`` statement,
function-level ones included: a lazy import is still a dependency). Each module belongs to
one layer:

- **library**: sources, engines, queries, detections, checks, actions, reports and what
  they share; it imports no module above it;
- **lab**: the sandbox, the demo world, the training lab and the demo evaluation, for
  learning and trying the kit offline; it may use the library;
- **cli**: the command-line modules; they may use both.

Two modules that import each other (a cycle, however long) are a fault in any layer.

The violations of today are listed below (:data:`KNOWN_UPWARD`, :data:`KNOWN_CYCLES`) and may
only shrink: a new one fails, and one that is gone must be struck from its list. Recount
them with ``python tests/test_layers.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "s3forensics"

LAYERS = ("library", "lab", "cli")

#: Modules of the lab, by name or package prefix (``demo.cli`` is command line).
LAB = ("s3forensics.sandbox", "s3forensics.demo", "s3forensics.training", "s3forensics.detections.evaluate")
#: Command-line modules besides ``*.cli`` ones.
CLI = ("s3forensics.cli", "s3forensics.cli_sandbox", "s3forensics.queries_cli")


def layer_of(module: str) -> str:
    """The layer ``module`` (a dotted name under :data:`PACKAGE`) belongs to."""
    if module in CLI or module.endswith(".cli"):
        return "cli"
    if any(module == lab or module.startswith(lab + ".") for lab in LAB):
        return "lab"
    return "library"


def module_sources(root: Path = ROOT / PACKAGE) -> dict[str, str]:
    """Dotted module name -> source text, for every module of the package."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path.read_text(encoding="utf-8")
    return out


def import_graph(sources: Mapping[str, str]) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (anywhere in its body)."""
    modules = set(sources)
    graph: dict[str, set[str]] = {}
    for name, text in sources.items():
        is_package = any(m.startswith(name + ".") for m in modules)  # an __init__.py
        targets: set[str] = set()
        for node in ast.walk(ast.parse(text, filename=name)):
            if isinstance(node, ast.Import):
                targets.update(_resolve(alias.name, modules) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, name, is_package)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in modules else _resolve(base, modules))
        graph[name] = {t for t in targets if t and t != name}
    return graph


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from ... import`` statement names."""
    if not node.level:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _resolve(name: str, modules: set[str]) -> str:
    """The deepest module of the package that ``name`` is or lies in, or ``""``."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name if name.startswith(PACKAGE) else ""


def upward_edges(graph: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    """(importer, imported) pairs where a lower layer imports a higher one."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    return {(a, b) for a, targets in graph.items() for b in targets if rank[layer_of(a)] < rank[layer_of(b)]}


def cycles(graph: Mapping[str, Iterable[str]]) -> list[tuple[str, ...]]:
    """Groups of modules that import each other, directly or around a loop (Tarjan's SCCs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(tuple(sorted(group)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


#: Lower layers importing higher ones: none is left, and a new one fails.
KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset()

#: Groups of modules that import each other today. Strike or shrink each one as it is fixed.
KNOWN_CYCLES: frozenset[tuple[str, ...]] = frozenset(
    {
        (
            "s3forensics.sources.cache",
            "s3forensics.sources.cloudtrail",
            "s3forensics.sources.cloudwatch",
            "s3forensics.sources.convert",
            "s3forensics.sources.inputs",
            "s3forensics.sources.s3_access",
            "s3forensics.sources.s3_listing",
        ),
    }
)


def test_no_new_upward_import_and_none_left_listed() -> None:
    found = upward_edges(import_graph(module_sources()))
    assert not found - KNOWN_UPWARD, f"imports pointing up a layer: {sorted(found - KNOWN_UPWARD)}"
    assert not KNOWN_UPWARD - found, f"fixed: strike from KNOWN_UPWARD {sorted(KNOWN_UPWARD - found)}"


def test_no_new_import_cycle_and_none_left_listed() -> None:
    found = set(cycles(import_graph(module_sources())))
    assert not found - KNOWN_CYCLES, f"modules importing each other: {sorted(found - KNOWN_CYCLES)}"
    assert not KNOWN_CYCLES - found, f"fixed or changed: update KNOWN_CYCLES {sorted(KNOWN_CYCLES - found)}"


def test_a_planted_upward_import_and_cycle_are_caught() -> None:
    sources = {
        "s3forensics": "",
        "s3forensics.sources": "",
        "s3forensics.sources.parse": "def load():\n    from s3forensics.sandbox import start\n",
        "s3forensics.sandbox": "from .sources import parse\n",
        "s3forensics.cli": "import s3forensics.sandbox\nfrom s3forensics.sources.parse import load\n",
    }
    graph = import_graph(sources)
    assert graph["s3forensics.sources.parse"] == {"s3forensics.sandbox"}
    assert graph["s3forensics.sandbox"] == {"s3forensics.sources.parse"}
    assert upward_edges(graph) == {("s3forensics.sources.parse", "s3forensics.sandbox")}
    assert cycles(graph) == [("s3forensics.sandbox", "s3forensics.sources.parse")]
    assert layer_of("s3forensics.demo.cli") == "cli" and layer_of("s3forensics.demo.world") == "lab"
    assert layer_of("s3forensics.detections.evaluate") == "lab" and layer_of("s3forensics.detections.base") == "library"


if __name__ == "__main__":
    graph = import_graph(module_sources())
    up = sorted(upward_edges(graph))
    loops = cycles(graph)
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} import edges")
    print(f"{len(up)} upward imports:")
    for a, b in up:
        print(f"  {a} ({layer_of(a)}) -> {b} ({layer_of(b)})")
    print(f"{len(loops)} cycles ({sum(map(len, loops))} modules):")
    for group in loops:
        print("  " + ", ".join(group))
