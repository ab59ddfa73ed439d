"""The plan's four Grafana dashboards (§5-3-2) as code, with grafana-foundation-sdk.

Panel ids are fixed: alerts link to `/d/<uid>/<slug>?viewPanel=<id>`, and a test checks every
such link lands on a panel here. Every query names its Prometheus `job`, so the query test knows
which running part must give it data. The datasource is the `datasource` variable, so one JSON
works against any Grafana's Prometheus.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus, timeseries
from grafana_foundation_sdk.models.dashboard import DashboardCursorSync, DataSourceRef, GridPos

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class PanelSpec:
    id: int
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    description: str = ""


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    slug: str
    title: str
    description: str
    panels: tuple[PanelSpec, ...] = field(default_factory=tuple)


def q(expr: str, legend: str = "") -> Query:
    return Query(" ".join(expr.split()), legend)


def rate(selector: str) -> str:
    return f"rate({selector}[{RATE}])"


BOOKING_5XX = 'http_requests_total{job="booking", status=~"5.."}'
BOOKING_ALL = 'http_requests_total{job="booking"}'
LATENCY_BUCKETS = 'http_request_duration_seconds_bucket{job="booking"}'
LOCK_BUCKETS = 'distributed_lock_wait_duration_seconds_bucket{job="booking"}'

SYSTEM_HEALTH = DashboardSpec(
    uid="soundcheck-system-health",
    slug="system-health",
    title="Soundcheck / System Health",
    description="Requests, latency, errors and throughput of the booking service; SLOs; the "
    "alerting and logging paths.",
    panels=(
        PanelSpec(
            1,
            "HTTP requests by status class",
            (
                q(
                    f'sum by (status_class) (label_replace({rate(BOOKING_ALL)}, "status_class", '
                    f'"${{1}}xx", "status", "([0-9]).."))',
                    "{{status_class}}",
                ),
            ),
            "reqps",
        ),
        PanelSpec(
            2,
            "Response time p50 / p95 / p99",
            tuple(
                q(
                    f"histogram_quantile({quantile}, sum by (le) ({rate(LATENCY_BUCKETS)}))",
                    f"p{int(quantile * 100)}",
                )
                for quantile in (0.5, 0.95, 0.99)
            ),
            "s",
        ),
        PanelSpec(
            3,
            "Error rate (5xx)",
            (
                q(
                    f"(sum({rate(BOOKING_5XX)}) or vector(0)) / sum({rate(BOOKING_ALL)})",
                    "5xx share",
                ),
            ),
            "percentunit",
        ),
        PanelSpec(
            4,
            "Throughput",
            (q(f"sum({rate(BOOKING_ALL)})", "requests/s"),),
            "reqps",
        ),
        PanelSpec(
            5,
            "Our services up",
            (q('up{job=~"booking|router|pipeline"}', "{{job}}"),),
        ),
        PanelSpec(
            6,
            "SLO error budget burn rate (1 h)",
            (q("slo:sli_error:ratio_rate1h / on (slo) slo:error_budget:ratio", "{{slo}}"),),
            description="1 = spending the 30-day budget exactly; 14.4 pages (with the 5 m window).",
        ),
        PanelSpec(
            7,
            "Degraded mode and circuit breakers",
            (
                q(
                    'max by (component) (degraded_mode_active{job="booking"})',
                    "degraded {{component}}",
                ),
                q('max by (breaker) (circuit_breaker_state{job="booking"})', "breaker {{breaker}}"),
            ),
            description="Breaker: 0 closed, 1 half-open, 2 open.",
        ),
        PanelSpec(
            8,
            "Alert delivery",
            (
                q('sum by (state) (router_queue_depth{job="router"})', "router {{state}}"),
                q(
                    "sum by (integration) "
                    f'(rate(alertmanager_notifications_total{{job="alertmanager"}}[{RATE}]))',
                    "alertmanager sent {{integration}}",
                ),
                q(
                    "sum by (integration) (rate(alertmanager_notifications_failed_total"
                    f'{{job="alertmanager"}}[{RATE}]))',
                    "alertmanager failed {{integration}}",
                ),
            ),
        ),
        PanelSpec(
            9,
            "Log pipeline",
            (
                q('sum(pipeline_buffer_bytes{job="pipeline"})', "buffered bytes"),
                q(
                    "sum by (source) "
                    f'(rate(pipeline_records_received_total{{job="pipeline"}}[{RATE}]))',
                    "received {{source}}",
                ),
                q(
                    f"sum by (job) (rate(log_records_dropped_total[{RATE}])) or on () vector(0)",
                    "dropped {{job}}",
                ),
            ),
        ),
    ),
)

BUSINESS = DashboardSpec(
    uid="soundcheck-business",
    slug="business",
    title="Soundcheck / Business",
    description="Reservations, payments and the waiting queue (plan §5-3-2 dashboard 1). The top "
    "concerts ranking is a Redis sorted set served by the booking API, not a metric.",
    panels=(
        PanelSpec(
            1,
            "Reservations per hour by status",
            (
                q(
                    'sum by (status) (increase(reservation_created_total{job="booking"}[1h]))',
                    "{{status}}",
                ),
            ),
        ),
        PanelSpec(
            2,
            "Payments per hour (KRW)",
            (q('sum(increase(payment_amount_krw_sum{job="booking"}[1h]))', "KRW"),),
            "currencyKRW",
        ),
        PanelSpec(
            3,
            "Waiting and active queue tokens",
            (
                q('max(queue_waiting_tokens{job="booking"})', "waiting"),
                q('max(queue_active_tokens{job="booking"})', "active"),
            ),
        ),
        PanelSpec(
            4,
            "Tokens activated per second by trigger",
            (
                q(
                    "sum by (trigger) "
                    f'(rate(queue_tokens_activated_total{{job="booking"}}[{RATE}]))',
                    "{{trigger}}",
                ),
            ),
            "ops",
        ),
    ),
)

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

DISTRIBUTED_LOCK = DashboardSpec(
    uid="soundcheck-distributed-lock",
    slug="distributed-lock",
    title="Soundcheck / Distributed Lock",
    description="Seat, reservation and point locks (plan §5-3-2 dashboard 4).",
    panels=(
        PanelSpec(
            1,
            "Lock wait p95 / p99",
            tuple(
                q(
                    f"histogram_quantile({quantile}, sum by (le, lock) ({rate(LOCK_BUCKETS)}))",
                    f"{{{{lock}}}} p{int(quantile * 100)}",
                )
                for quantile in (0.95, 0.99)
            ),
            "s",
        ),
        PanelSpec(
            2,
            "Lock acquisitions failed",
            (
                q(
                    "sum by (lock, reason) "
                    f'(rate(distributed_lock_failures_total{{job="booking"}}[{RATE}])) '
                    "or on () vector(0)",
                    "{{lock}} {{reason}}",
                ),
            ),
            "ops",
        ),
        PanelSpec(
            3,
            "Contention by lock kind",
            (
                q(
                    "sum by (lock, outcome) "
                    f'(rate(distributed_lock_wait_duration_seconds_count{{job="booking"}}[{RATE}]))',
                    "{{lock}} {{outcome}}",
                ),
            ),
            "ops",
        ),
    ),
)

DASHBOARDS = (BUSINESS, SYSTEM_HEALTH, INFRASTRUCTURE, DISTRIBUTED_LOCK)


def build(spec: DashboardSpec) -> dash.Dashboard:
    """The Grafana dashboard for `spec`: a datasource variable and a 2-column grid of panels."""
    board = (
        dash.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(["soundcheck"])
        .time("now-1h", "now")
        .refresh("30s")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .with_variable(dash.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
    )
    for index, panel in enumerate(spec.panels):
        built = (
            timeseries.Panel()
            .id(panel.id)
            .title(panel.title)
            .description(panel.description)
            .datasource(DATASOURCE)
            .unit(panel.unit)
            .grid_pos(GridPos(h=8, w=12, x=12 * (index % 2), y=8 * (index // 2)))
        )
        for ref, query in zip("ABCDEFGH", panel.queries, strict=False):
            built = built.with_target(
                prometheus.Dataquery()
                .expr(query.expr)
                .legend_format(query.legend)
                .ref_id(ref)
                .datasource(DATASOURCE)
            )
        board = board.with_panel(built)
    return board
