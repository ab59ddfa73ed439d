"""System health dashboard: the booking service's requests, latency, errors and SLOs."""

from __future__ import annotations

from dashboards.spec import RATE, DashboardSpec, PanelSpec, q, rate

BOOKING_5XX = 'http_requests_total{job="booking", status=~"5.."}'


BOOKING_ALL = 'http_requests_total{job="booking"}'


LATENCY_BUCKETS = 'http_request_duration_seconds_bucket{job="booking"}'


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
