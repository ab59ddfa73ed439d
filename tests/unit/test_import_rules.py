"""Which of our top-level packages may import which, as each folder's README says.

instrumentation imports none of ours; the services (booking_app, router, pipeline) import
instrumentation, never each other nor the tools that start and measure them (soundcheck,
loadtest, bench); the sandbox stands in for outside products and imports only the shared
settings contract and the router's registry of targets.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = {"booking_app", "router", "pipeline"}
# What each package may import: a package (all of it) or one dotted module of it.
MAY_IMPORT: dict[str, set[str]] = {
    "instrumentation": set(),
    "booking_app": {"instrumentation"},
    # The saved searches (incident evidence, /logs) and the dashboard definitions (/dashboards).
    "router": {
        "instrumentation",
        "pipeline.searches",
        "pipeline.search_runner",
        "pipeline.documents",
        "dashboards",
    },
    "pipeline": {"instrumentation"},
    # Its settings contract, as every process's settings; the router's registry of targets.
    "sandbox": {"instrumentation", "router.targets"},
    "alert_rules": set(),
    "dashboards": set(),
    # The load generator measures the running stack: its settings and processes, the SLOs.
    "loadtest": {"soundcheck", "alert_rules"},
    # The composition root: starts every part and builds each one's environment.
    "soundcheck": {*SERVICES, "instrumentation", "sandbox", "loadtest", "alert_rules"},
    # Benchmarks drive the real parts, reuse the tests' harness and the load generator.
    "bench": {*SERVICES, "instrumentation", "sandbox", "soundcheck", "loadtest", "tests"},
}
OURS = {*MAY_IMPORT, "tests"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) for every absolute import in `path`, in functions too; `from a
    import b` gives `a.b` (b may be a module or a name in a)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def allowed(imported: str, rules: set[str]) -> bool:
    return any(imported == rule or imported.startswith(rule + ".") for rule in rules)


def forbidden_imports(package: str, root: Path = REPO) -> list[str]:
    rules = MAY_IMPORT[package] | {package}
    return [
        f"{path.relative_to(root)}:{line} imports {imported}"
        for path in sorted((root / package).rglob("*.py"))
        for line, imported in imported_modules(path)
        if imported.split(".")[0] in OURS and not allowed(imported, rules)
    ]


def test_every_top_level_package_has_import_rules() -> None:
    packages = {p.parent.name for p in REPO.glob("*/*.py")} - {"tests"}
    assert packages == set(MAY_IMPORT)


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_package_imports_only_what_its_readme_allows(package: str) -> None:
    assert forbidden_imports(package) == []


def test_a_service_importing_another_service_is_reported(tmp_path: Path) -> None:
    (tmp_path / "router").mkdir()
    (tmp_path / "router" / "app.py").write_text(
        "from instrumentation import logs\n\n\ndef f():\n    import booking_app.web\n"
    )
    assert forbidden_imports("router", tmp_path) == ["router/app.py:5 imports booking_app.web"]


def test_the_sandbox_may_read_the_router_target_registry_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "state.py").write_text(
        "from router.targets import TARGETS\nfrom router import targets\nfrom router import app\n"
    )
    assert forbidden_imports("sandbox", tmp_path) == ["sandbox/state.py:3 imports router.app"]
