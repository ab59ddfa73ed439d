"""Distributed lock dashboard: seat, reservation and point locks."""

from __future__ import annotations

from dashboards.spec import RATE, DashboardSpec, PanelSpec, q, rate

LOCK_BUCKETS = 'distributed_lock_wait_duration_seconds_bucket{job="booking"}'


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
