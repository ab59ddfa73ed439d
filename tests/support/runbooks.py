"""The PromQL each runbook tells on-call to run: the alerting integration tests run every query
on the real Prometheus, so a runbook cannot send anyone to a query that does not parse."""

from __future__ import annotations

from alert_rules.catalog import RUNBOOKS, alert_names


def runbook_queries() -> list[tuple[str, str]]:
    """(alert, PromQL) for every query in every runbook's Diagnosis section."""
    found = []
    for name in alert_names():
        diagnosis = (RUNBOOKS / f"{name}.md").read_text().split("## Diagnosis", 1)[1]
        block = diagnosis.split("```promql\n", 1)[1].split("```", 1)[0]
        found += [(name, line) for line in block.splitlines() if line.strip()]
    return found
