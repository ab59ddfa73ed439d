"""Load tests of the booking service (plan §2): the four scenarios on Locust, judged by the plan's
thresholds, with the server's side from Prometheus and a self-contained report.

The parent (`soundcheck load ...`, `loadtest.run`) never imports Locust: Locust patches the
standard library for gevent at import, so the load itself runs in a child process
(`python -m loadtest`, `loadtest.engine`) and hands its measurements back as files.
"""
