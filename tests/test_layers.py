"""The kit's layers point one way: library, then lab, then command line (notebooks on top).

The import graph is read from the sources with :mod:`ast` (every ``import`` statement,
function-level ones included: a lazy import is still a dependency). Each module belongs to
one layer:

- **library**: sources, engines, queries, detections, checks, actions, reports and what
  they share; it imports no module above it;
- **lab** (``s3forensics.lab``): the sandbox, the demo world, the training lab and the
  demo evaluation, for learning and trying the kit offline; it may use the library;
- **cli** (``s3forensics.cli``): the command line; it may use both.

Two modules that import each other (a cycle, however long) are a fault in any layer, and
so is a module reaching for another module's private (``_``) name. None is left today;
recount with ``python tests/test_layers.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "s3forensics"

LAYERS = ("library", "lab", "cli")

#: Each layer above the library is one package; everything else is the library.
PACKAGES = {"lab": "s3forensics.lab", "cli": "s3forensics.cli"}


def layer_of(module: str) -> str:
    """The layer ``module`` (a dotted name under :data:`PACKAGE`) belongs to."""
    for layer, package in PACKAGES.items():
        if module == package or module.startswith(package + "."):
            return layer
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


def private_uses(sources: Mapping[str, str]) -> set[tuple[str, str]]:
    """(module, ``other.name``) for every private name of another package module it uses.

    Caught: ``from s3forensics.x import _name`` and ``alias._name`` where ``alias`` is a
    package module imported by name (``from s3forensics.sources import inputs as inp``).
    """
    modules = set(sources)
    found: set[tuple[str, str]] = set()
    for name, text in sources.items():
        is_package = any(m.startswith(name + ".") for m in modules)
        aliases: dict[str, str] = {}
        tree = ast.parse(text, filename=name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules and alias.asname:
                        aliases[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, name, is_package)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in modules:
                        aliases[alias.asname or alias.name] = full
                    elif base in modules and base != name and _private(alias.name):
                        found.add((name, full))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and aliases[node.value.id] != name and _private(node.attr)):
                found.add((name, f"{aliases[node.value.id]}.{node.attr}"))
    return found


def _private(attr: str) -> bool:
    return attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__"))


def test_no_import_points_up_a_layer() -> None:
    found = upward_edges(import_graph(module_sources()))
    assert not found, f"imports pointing up a layer: {sorted(found)}"


def test_no_modules_import_each_other() -> None:
    found = cycles(import_graph(module_sources()))
    assert not found, f"modules importing each other: {found}"


def test_no_module_uses_another_ones_private_names() -> None:
    found = private_uses(module_sources())
    assert not found, f"private names used across modules: {sorted(found)}"


def test_a_planted_upward_import_and_cycle_are_caught() -> None:
    sources = {
        "s3forensics": "",
        "s3forensics.sources": "",
        "s3forensics.lab": "",
        "s3forensics.sources.parse": "def load():\n    from s3forensics.lab.sandbox import start\n",
        "s3forensics.lab.sandbox": "from ..sources import parse\n",
        "s3forensics.cli": "import s3forensics.lab.sandbox\nfrom s3forensics.sources.parse import load\n",
    }
    graph = import_graph(sources)
    assert graph["s3forensics.sources.parse"] == {"s3forensics.lab.sandbox"}
    assert graph["s3forensics.lab.sandbox"] == {"s3forensics.sources.parse"}
    assert upward_edges(graph) == {("s3forensics.sources.parse", "s3forensics.lab.sandbox")}
    assert cycles(graph) == [("s3forensics.lab.sandbox", "s3forensics.sources.parse")]
    assert layer_of("s3forensics.cli.demo") == "cli" and layer_of("s3forensics.lab.demo.world") == "lab"
    assert layer_of("s3forensics.lab.evaluate") == "lab" and layer_of("s3forensics.detections.base") == "library"
    assert layer_of("s3forensics.cli") == "cli" and layer_of("s3forensics.client") == "library"


def test_a_planted_private_use_is_caught() -> None:
    sources = {
        "s3forensics": "",
        "s3forensics.sources": "",
        "s3forensics.sources.inputs": "_POOL = 1\ndef _cut():\n    return _POOL\n",
        "s3forensics.sources.parse": "from s3forensics.sources import inputs as inp\nfrom .inputs import _POOL\nx = inp._cut()\n",
        "s3forensics.sources.fine": "from s3forensics.sources import inputs\nclass A:\n    def f(self):\n        return self._x, inputs.__name__\n",
    }
    assert private_uses(sources) == {
        ("s3forensics.sources.parse", "s3forensics.sources.inputs._POOL"),
        ("s3forensics.sources.parse", "s3forensics.sources.inputs._cut"),
    }


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
    private = sorted(private_uses(module_sources()))
    print(f"{len(private)} private names used across modules:")
    for user, used in private:
        print(f"  {user} -> {used}")
