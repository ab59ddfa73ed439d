"""Prometheus rules, SLOs and the Alertmanager config, with the code that makes and checks them."""
