"""The package's shape: each layer imports only from the layers before it, and nothing in a cycle.

Every import is read from the source, lazy ones inside functions included, so
a deferred ``from mapapp.x import y`` cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mapapp"

#: The layers, lowest first: a module may import its own layer's modules or earlier layers'.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "mapapp",
        "mapapp.errors",
        "mapapp.settings",
        "mapapp.records",
        "mapapp.geo",
        "mapapp.text",
        "mapapp.files",
    ),
    ("mapapp.articles",),
    ("mapapp.recognition",),
    ("mapapp.resolution",),
    ("mapapp.geoparsing", "mapapp.evaluation", "mapapp.events"),
    ("mapapp.stores",),
    ("mapapp.ingest",),
    ("mapapp.maps",),
    ("mapapp.web",),
    (
        "mapapp.cli_options",
        "mapapp.cli_progress",
        "mapapp.cli_store",
        "mapapp.cli_editors",
        "mapapp.cli",
        "mapapp.__main__",
    ),
)
#: What the map and web layers must never reach, however indirectly: they read the store.
GEOPARSER_SIDE = ("mapapp.recognition", "mapapp.resolution", "mapapp.geoparsing", "mapapp.ingest")


def module_name(path: Path) -> str:
    """mapapp/stores/postgis.py -> mapapp.stores.postgis (a package's __init__ is the package)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package (Alembic's revision scripts are data, not code)."""
    return {
        module_name(p): p
        for p in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in p.relative_to(PACKAGE).parts[:-1] or p.name == "env.py"
    }


def _resolve(target: str) -> str | None:
    """The project module an imported name lives in (``mapapp.a.b.C`` -> ``mapapp.a.b``)."""
    known = modules()
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


@cache
def imports_of(name: str) -> frozenset[str]:
    """The project modules ``name`` imports anywhere in its source, lazily or not."""
    path = modules()[name]
    return imports_in(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")


def imports_in(source: str, name: str, is_package: bool = False) -> frozenset[str]:
    """The project modules a module's source imports (every ``import``, at any depth)."""
    tree = ast.parse(source)
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            if target == "mapapp" or target.startswith("mapapp."):
                resolved = _resolve(target)
                if resolved and resolved != name:
                    found.add(resolved)
    return frozenset(found)


def layer_of(name: str) -> int:
    """The index in LAYERS of the longest prefix that names ``name``'s layer."""
    best, depth = None, -1
    for index, members in enumerate(LAYERS):
        for member in members:
            if (name == member or name.startswith(member + ".")) and member.count(".") > depth:
                best, depth = index, member.count(".")
    assert best is not None, f"{name} belongs to no layer: add it to LAYERS"
    return best


def test_every_module_has_a_layer() -> None:
    assert len(modules()) > 20
    for name in modules():
        layer_of(name)


@pytest.mark.parametrize("name", sorted(modules()))
def test_imports_only_run_down_the_layers(name: str) -> None:
    upward = sorted(t for t in imports_of(name) if layer_of(t) > layer_of(name))
    assert not upward, f"{name} (layer {layer_of(name)}) imports a later layer: {upward}"


@pytest.mark.parametrize(
    "name", sorted(n for n in modules() if n.startswith(("mapapp.web", "mapapp.maps")))
)
def test_map_and_web_never_reach_the_geoparser(name: str) -> None:
    reached, todo = set(), [name]
    while todo:
        for target in imports_of(todo.pop()):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    bad = sorted(t for t in reached if t.startswith(GEOPARSER_SIDE))
    assert not bad, f"{name} reaches geoparsing code: {bad}"


def test_no_import_cycles() -> None:
    graph = {name: imports_of(name) for name in modules()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_importing_the_web_layer_loads_no_geoparsing_code() -> None:
    code = (
        "import sys, mapapp.web, mapapp.maps; "
        f"print(sorted(m for m in sys.modules if m.startswith({GEOPARSER_SIDE!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def later():\n    from mapapp.web import create_app\n", {"mapapp.web"}),
        ("import mapapp.stores.postgis as pg\n", {"mapapp.stores.postgis"}),
        ("from . import postgis\n", {"mapapp.stores.postgis"}),
        ("from .geopackage import GeoPackageStore\n", {"mapapp.stores.geopackage"}),
        ("if True:\n    from mapapp.errors import StoreError\n", {"mapapp.errors"}),
    ],
)
def test_the_reader_sees_every_kind_of_import(source: str, expected: set[str]) -> None:
    """Lazy, aliased and relative imports are all edges (guards the guard)."""
    assert imports_in(source, "mapapp.stores.copy") - {"mapapp.stores"} == expected
