"""Infrastructure dashboard: host, database pool, Redis, Kafka and the cache."""

from __future__ import annotations

from dashboards.spec import RATE, DashboardSpec, PanelSpec, q

INFRASTRUCTURE = DashboardSpec(
    uid="soundcheck-infrastructure",
    slug="infrastructure",
    title="Soundcheck / Infrastructure",
    description="Host, database pool, Redis, Kafka and the cache (plan §5-3-2 dashboard 3).",
    panels=(
        PanelSpec(
            1,
            "CPU busy",
            (
                q(
                    f'1 - avg(rate(node_cpu_seconds_total{{job="node", mode="idle"}}[{RATE}]))',
                    "cpu",
                ),
            ),
            "percentunit",
        ),
        PanelSpec(
            2,
            "Memory used",
            (
                q(
                    '1 - node_memory_MemAvailable_bytes{job="node"} '
                    '/ node_memory_MemTotal_bytes{job="node"}',
                    "memory",
                ),
            ),
            "percentunit",
        ),
        PanelSpec(
            3,
            "DB connection pool in use",
            (
                q(
                    'sum(db_pool_connections_in_use{job="booking"}) '
                    '/ sum(db_pool_size{job="booking"})',
                    "in use",
                ),
            ),
            "percentunit",
        ),
        PanelSpec(
            4,
            "Redis command time (average)",
            (
                q(
                    f'sum(rate(redis_commands_duration_seconds_total{{job="redis"}}[{RATE}])) '
                    f'/ sum(rate(redis_commands_total{{job="redis"}}[{RATE}]))',
                    "seconds per command",
                ),
            ),
            "s",
        ),
        PanelSpec(
            5,
            "Kafka consumer lag",
            (
                q(
                    'max by (group, topic) (kafka_consumer_lag{job="booking"})',
                    "{{group}} {{topic}}",
                ),
            ),
        ),
        PanelSpec(
            6,
            "Dependencies up",
            (
                q('redis_up{job="redis"}', "redis"),
                q('mysql_up{job="mysql"}', "mariadb"),
                q('up{job="kafka"}', "kafka"),
                q('elasticsearch_cluster_health_up{job="elasticsearch"}', "elasticsearch"),
            ),
        ),
        PanelSpec(
            7,
            "Outbox backlog",
            (q('max(outbox_pending_events{job="booking"})', "pending events"),),
        ),
        PanelSpec(
            8,
            "Kafka messages produced and failed",
            (
                q(
                    "sum by (topic) "
                    f'(rate(kafka_messages_produced_total{{job="booking"}}[{RATE}]))',
                    "produced {{topic}}",
                ),
                q(
                    f'sum(rate(kafka_messages_failed_total{{job="booking"}}[{RATE}])) '
                    "or on () vector(0)",
                    "failed",
                ),
            ),
            "ops",
        ),
        PanelSpec(
            9,
            "Cache hit rate",
            (
                q(
                    f'sum by (cache) (rate(cache_hits_total{{job="booking"}}[{RATE}])) '
                    f'/ sum by (cache) (rate(cache_requests_total{{job="booking"}}[{RATE}]))',
                    "{{cache}}",
                ),
            ),
            "percentunit",
        ),
        PanelSpec(
            10,
            "Kafka broker messages in",
            (
                q(
                    'sum(rate(kafka_server_brokertopicmetrics_messagesin_total{job="kafka"}'
                    f"[{RATE}]))",
                    "messages/s",
                ),
            ),
            "ops",
        ),
        PanelSpec(
            11,
            "MariaDB queries and connections",
            (
                q(f'rate(mysql_global_status_queries{{job="mysql"}}[{RATE}])', "queries/s"),
                q('mysql_global_status_threads_connected{job="mysql"}', "connections"),
            ),
        ),
    ),
)
