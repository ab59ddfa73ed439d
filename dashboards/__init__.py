"""Grafana dashboards as code (grafana-foundation-sdk) and the JSON they produce."""
