"""What every service shares of OpenTelemetry, Prometheus and logging (SPEC O1-O3).

`settings` (TelemetrySettings), `settings_contract` (the base of every process's settings class
and the checked environment of a child), `metrics` (the shared metrics: HTTP, SQL/Redis clients,
log shipping; a service's own metrics live in that service), `logs` (ECS JSON + non-blocking
forward shipping), `tracing` (OTLP/HTTP, SQL/Redis/Kafka spans), `wsgi` / `asgi` (Flask / FastAPI
request spans, request metrics and `/metrics`), `multiprocess` / `gunicorn_hooks` (multiprocess
metrics). See docs/instrumentation.md for what each service owns.
"""
