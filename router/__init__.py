"""The alert router: Alertmanager webhooks in, PagerDuty / Slack / Jira / email out, exactly once.

Flow: `app` authenticates and validates a webhook, `ingest` persists it and plans one delivery per
(target, alert, action) in the `store`, and the `worker` sends them through one `notifiers` module
per target, retrying with backoff until delivered or dead-lettered.
"""
