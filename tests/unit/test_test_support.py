"""The tests' own support: the poll helper, and that every shared helper is imported from
tests/support by its full name (never a conftest or a sibling module by a bare name, which
resolves to whichever one pytest happened to put on sys.path first)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from soundcheck import REPO_ROOT
from soundcheck.stack.process import ManagedProcess
from tests.support.harness import stop_unless_ready
from tests.support.polling import NotWithin, eventually


def test_eventually_returns_the_first_truthy_result_of_the_check() -> None:
    answers = iter([None, 0, "", "third", "fourth"])
    assert eventually(lambda: next(answers), 10, "a truthy answer", every=0) == "third"


def test_eventually_fails_naming_what_it_awaited_and_the_state_last_seen() -> None:
    seen: list[int] = []
    with pytest.raises(NotWithin, match=r"not within 0 s: the queue empty, still 3 in it"):
        eventually(
            lambda: seen.append(3),  # never truthy
            0,
            lambda: f"the queue empty, still {seen[-1]} in it",
            every=0,
        )
    with pytest.raises(AssertionError, match="a plain message"):
        eventually(lambda: False, 0, "a plain message", every=0)


def imports_by_bare_name(root: Path) -> list[str]:
    """`from conftest import ...`, `import test_x`, `tests.….conftest` and sys.path edits in the
    tests and benchmarks under `root`: each a sign a helper is not in tests/support."""
    tests = root / "tests"
    sources = [*tests.rglob("*.py"), *(root / "bench").glob("*.py")]
    siblings = {path.stem for path in tests.rglob("*.py")} - {"__init__"}
    found = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Attribute) and ast.unparse(node).startswith("sys.path."):
                names = ["sys.path"]
            else:
                continue
            for name in names:
                if (
                    name.split(".")[0] in siblings
                    or "conftest" in name.split(".")
                    or (name == "sys.path")
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {name}")
    return found


def test_no_test_imports_a_conftest_or_a_sibling_module_by_its_bare_name() -> None:
    assert imports_by_bare_name(REPO_ROOT) == []


def test_a_process_that_never_gets_ready_is_stopped_not_left_running(tmp_path: Path) -> None:
    # A router or Alertmanager that missed its start deadline used to outlive the test (found
    # as a dozen orphaned routers after a loaded afternoon).
    process = ManagedProcess(tmp_path)
    process.start(["sleep", "600"])
    assert process.is_alive()
    with pytest.raises(NotWithin):
        stop_unless_ready(process, lambda: eventually(lambda: False, 0, "never ready", every=0))
    assert not process.is_alive()
