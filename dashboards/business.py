"""Business dashboard: reservations, payments and the waiting queue."""

from __future__ import annotations

from dashboards.spec import RATE, DashboardSpec, PanelSpec, q

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
