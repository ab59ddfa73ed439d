"""No import cycle between our modules: what a module imports when it loads (its top-level
imports, not those under `if TYPE_CHECKING` or inside functions) never leads back to it. A cycle
made the router's webhook process load every notifier library; graphlib names any new one."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from tests.unit.test_import_rules import MAY_IMPORT, REPO


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def load_time_imports(path: Path, modules: set[str]) -> set[str]:
    """Our modules that loading `path` loads: its top-level imports. `from a import b` needs
    module a.b when there is one (a, a package, is then only its parent), else the name b of a."""
    needed: set[str] = set()
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Import):
            needed |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                needed.add(submodule if submodule in modules else node.module)
    return needed & modules


def import_graph(root: Path, packages: list[str]) -> dict[str, set[str]]:
    paths = {module_name(p, root): p for pkg in packages for p in (root / pkg).rglob("*.py")}
    return {
        module: load_time_imports(path, set(paths)) - {module} for module, path in paths.items()
    }


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return list(error.args[1])
    return None


def test_no_import_cycle_between_our_modules() -> None:
    graph = import_graph(REPO, [p for p in MAY_IMPORT if (REPO / p / "__init__.py").exists()])
    assert len(graph) > 150, "the scan found too few modules to mean anything"
    assert cycle_in(graph) is None


@pytest.mark.parametrize(
    "second", ["from shop.first import A\n", "import shop.first\n", "from shop import first\n"]
)
def test_a_cycle_is_named(tmp_path: Path, second: str) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text("from shop.second import B\nA = 1\n")
    (package / "second.py").write_text(second + "B = 2\n")
    cycle = cycle_in(import_graph(tmp_path, ["shop"]))
    assert cycle is not None
    assert {"shop.first", "shop.second"} <= set(cycle)
