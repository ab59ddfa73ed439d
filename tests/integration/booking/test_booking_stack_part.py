"""The stack's own booking service: started by `soundcheck up`, migrated, seeded, ready."""

from __future__ import annotations

import httpx

from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack


def test_stack_starts_a_seeded_booking_service_that_names_its_dependencies(
    stack: Stack, settings: StackSettings
) -> None:
    url = stack.part("booking").address()
    ready = httpx.get(f"{url}/ready", timeout=10)
    assert ready.status_code == 200
    dependencies = ready.json()["dependencies"]
    assert set(dependencies) == {"database", "redis", "kafka"}
    assert dependencies["database"]["status"] == "up"
    assert httpx.get(f"{url}/health", timeout=5).json() == {"status": "ok"}
    seats = httpx.get(f"{url}/concerts/schedules/schedule_popular/seats", timeout=10).json()
    assert len(seats["seats"]) == 50
    schedules = httpx.get(f"{url}/concerts/concert_2/schedules", timeout=10).json()["schedules"]
    bigger = httpx.get(
        f"{url}/concerts/schedules/{schedules[0]['scheduleId']}/seats", timeout=10
    ).json()
    assert len(bigger["seats"]) > 50
    document = httpx.get(f"{url}/openapi.json", timeout=5).json()
    assert "/reservations" in document["paths"]
