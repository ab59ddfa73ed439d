"""The one place that knows OpenTelemetry, Prometheus and logging (SPEC O1-O3).

`settings` (TelemetrySettings), `metrics` (every O2 metric), `logs` (ECS JSON + non-blocking
forward shipping), `tracing` (OTLP/HTTP, SQL/Redis/Kafka spans), `wsgi` / `asgi` (Flask / FastAPI
request spans, request metrics and `/metrics`), `gunicorn_hooks` (multiprocess metrics).
"""
