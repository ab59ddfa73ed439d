"""Drill tests mutate the stack (they stop and kill its parts), so `make test` runs them in their
own pytest invocation on their own stack (Makefile: SOUNDCHECK_HOME=.soundcheck-drills, port
offset 3000), beside the main suite."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)
