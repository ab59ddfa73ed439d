"""The concert-booking service: queue tokens, concerts, reservations, points, payments, ranking.

Flask under gunicorn for the HTTP API (`booking_app.web`), and one background process
(`booking_app.worker`) for the outbox relay, the Kafka consumers and the timers.
"""
