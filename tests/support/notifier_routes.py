"""Routes (as routing.yml gives them) for calling each notifier directly against the sandbox."""

from __future__ import annotations

PD_ROUTE = {"service": "booking", "severity": "critical", "dedup": "alert"}
SLACK_ROUTE = {"channel": "#alerts-critical"}
JIRA_ROUTE = {
    "project": "OPS",
    "issue_type": "Bug",
    "priority": "Highest",
    "resolve_transition": "Done",
    "reopen_transition": "Reopen",
    "reopen_window_seconds": 3600.0,
}
EMAIL_ROUTE = {"to": ["oncall@soundcheck.example"]}
