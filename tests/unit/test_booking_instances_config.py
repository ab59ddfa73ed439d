"""SOUNDCHECK_BOOKING_INSTANCES: each instance its own ports, all of them behind the balancer and
scraped and probed by Prometheus; an instance started with a larger setting is never lost."""

from __future__ import annotations

from pathlib import Path

import yaml

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.balancer import Balancer
from soundcheck.stack.parts.booking import Booking
from soundcheck.stack.parts.prometheus import Prometheus
from soundcheck.stack.stack import Stack


def test_three_instances_get_their_own_ports_the_balancer_and_both_scrape_jobs(
    tmp_path: Path,
) -> None:
    # port_offset given: a developer's SOUNDCHECK_PORT_OFFSET (a second stack) must not move them
    settings = StackSettings(home=tmp_path, booking_instances=3, port_offset=0)
    stack = Stack(settings)
    instances = [stack.part(name) for name in ("booking", "booking-2", "booking-3")]
    assert [i.port_settings() for i in instances] == [
        {"booking_port": 8000, "booking_metrics_port": 8001},
        {"booking_port": 8010, "booking_metrics_port": 8011},
        {"booking_port": 8020, "booking_metrics_port": 8021},
    ]
    assert [i.environment()["BOOKING_RUN_WORKER"] for i in instances] == ["true", "false", "false"]
    assert len({i.environment()["BOOKING_ADMIN_TOKEN"] for i in instances}) == 1

    Balancer(settings).prepare()
    servers = [
        line.split()[2]
        for line in (tmp_path / "balancer" / "haproxy.cfg").read_text().splitlines()
        if line.strip().startswith("server ")
    ]
    assert servers == ["127.0.0.1:8000", "127.0.0.1:8010", "127.0.0.1:8020"]

    Prometheus(settings).prepare()
    config = yaml.safe_load((tmp_path / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["booking"]["static_configs"][0]["targets"] == [
        "127.0.0.1:8001",
        "127.0.0.1:8011",
        "127.0.0.1:8021",
    ]
    assert jobs["booking_health"]["static_configs"][0]["targets"] == [
        f"http://127.0.0.1:{port}/health" for port in (8000, 8010, 8020)
    ]


def test_an_instance_left_running_by_a_larger_setting_stays_a_part(tmp_path: Path) -> None:
    larger = StackSettings(home=tmp_path, booking_instances=2)
    Booking(larger, 2).process.pid_file.parent.mkdir(parents=True)
    Booking(larger, 2).process.pid_file.write_text('{"pid": 1, "create_time": 0, "started_at": 0}')
    assert "booking-2" in Stack(StackSettings(home=tmp_path)).parts
    assert "booking-3" not in Stack(StackSettings(home=tmp_path)).parts
