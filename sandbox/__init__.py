"""Local stand-ins for PagerDuty, Slack, Jira and an SMTP server, speaking their real protocols.

The real client libraries (`pagerduty`, `slack-sdk`, `jira`, `smtplib`) work against it unchanged;
everything received is listed at `/_sandbox` (HTML) and `/_sandbox/received?target=...` (JSON), and
faults (error rate, latency, 429, 5xx, down) are switched on per target at `/_sandbox/faults`.
"""
