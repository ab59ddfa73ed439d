"""The local stack: real MariaDB, Redis, Kafka, Elasticsearch, Prometheus and Alertmanager."""
