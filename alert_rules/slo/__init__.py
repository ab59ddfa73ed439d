"""The SLO spec (slos.yml) and its generator: recording rules, burn-rate alerts, promtool tests."""
