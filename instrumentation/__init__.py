"""The one place that knows OpenTelemetry, Prometheus and logging (SPEC O1-O3).

`settings` (TelemetrySettings), `settings_contract` (the base of every process's settings class
and the checked environment of a child), `metrics` (every O2 metric), `logs` (ECS JSON +
non-blocking forward shipping), `tracing` (OTLP/HTTP, SQL/Redis/Kafka spans), `wsgi` / `asgi`
(Flask / FastAPI request spans, request metrics and `/metrics`), `gunicorn_hooks` (multiprocess
metrics).
"""
