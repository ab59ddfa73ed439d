"""Each part of the stack is the real thing: a round trip through its real client."""

from __future__ import annotations

import subprocess
import uuid

import httpx
import pytest
import redis
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from elasticsearch import Elasticsearch

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack
from tests.support.polling import eventually

pytestmark = pytest.mark.usefixtures("stack")


def test_mariadb_sql_round_trip(settings: StackSettings) -> None:
    conn = app_connection(settings, settings.mariadb_database)
    table = f"roundtrip_{uuid.uuid4().hex[:8]}"
    with conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, seat VARCHAR(10)) ENGINE=InnoDB")
        cursor.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, "A-17"))
        cursor.execute(f"SELECT seat, @@version FROM {table} WHERE id = 1")
        seat, version = cursor.fetchone()
        cursor.execute(f"DROP TABLE {table}")
    assert seat == "A-17"
    assert "MariaDB" in version


def test_redis_set_get(settings: StackSettings) -> None:
    client = redis.Redis(host=settings.host, port=settings.redis_port)
    key = f"soundcheck:test:{uuid.uuid4().hex}"
    assert client.set(key, "seat-42", px=10_000, nx=True)
    assert client.get(key) == b"seat-42"
    assert client.set(key, "other", nx=True) is None  # NX: the lock primitive B3 relies on
    client.delete(key)


def test_kafka_topic_produce_consume(settings: StackSettings) -> None:
    bootstrap = f"{settings.host}:{settings.kafka_port}"
    topic = f"soundcheck-test-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(30)

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    delivered: list[object] = []
    producer.produce(
        topic, key=b"r-1", value=b"payment.completed", on_delivery=lambda e, m: delivered.append(e)
    )
    assert producer.flush(30) == 0
    assert delivered == [None], f"delivery failed: {delivered}"

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    try:
        message = eventually(lambda: _value(consumer.poll(1.0)), 60, f"a message on {topic}")
    finally:
        consumer.close()
    assert message == (b"r-1", b"payment.completed")
    admin.delete_topics([topic])


def _value(message: object) -> tuple[bytes, bytes] | None:
    if message is None or message.error():  # type: ignore[attr-defined]
        return None
    return message.key(), message.value()  # type: ignore[attr-defined]


def test_elasticsearch_index_and_search(settings: StackSettings) -> None:
    url = f"http://{settings.host}:{settings.elasticsearch_port}"
    root = httpx.get(url + "/")
    assert root.headers["X-Elastic-Product"] == "Elasticsearch"
    assert root.json()["version"]["number"].startswith("7.17.")

    client = Elasticsearch(url)
    index = f"soundcheck-test-{uuid.uuid4().hex[:8]}"
    client.index(
        index=index,
        id="1",
        document={"message": "seat lock acquired", "service": {"name": "booking"}},
        refresh="wait_for",
    )
    found = client.search(index=index, query={"match": {"message": "lock"}})
    assert found["hits"]["total"]["value"] == 1
    assert found["hits"]["hits"][0]["_source"]["service"]["name"] == "booking"
    client.indices.delete(index=index)


def test_prometheus_scrapes_and_answers_promql(settings: StackSettings) -> None:
    api = f"http://{settings.host}:{settings.prometheus_port}/api/v1"

    def alertmanager_scraped() -> list[dict[str, object]] | None:
        result = httpx.get(api + "/query", params={"query": 'up{job="alertmanager"} == 1'}).json()
        assert result["status"] == "success"
        return result["data"]["result"] or None

    samples = eventually(alertmanager_scraped, 30, "Prometheus scraping Alertmanager")
    assert samples[0]["metric"]["instance"] == f"{settings.host}:{settings.alertmanager_port}"
    bad = httpx.get(api + "/query", params={"query": "sum(("})
    assert bad.status_code == 400  # PromQL is really parsed


def test_alertmanager_accepts_an_alert(settings: StackSettings) -> None:
    api = f"http://{settings.host}:{settings.alertmanager_port}/api/v2"
    name = f"SoundcheckTest{uuid.uuid4().hex[:8]}"
    alert = {
        "labels": {"alertname": name, "priority": "P3", "service": "test"},
        "annotations": {"summary": "a test alert"},
    }
    assert httpx.post(api + "/alerts", json=[alert]).status_code == 200

    def listed() -> list[object] | None:
        alerts = httpx.get(api + "/alerts", params={"filter": f'alertname="{name}"'}).json()
        return alerts or None

    alerts = eventually(listed, 10, f"Alertmanager listing {name}")
    assert alerts[0]["labels"]["priority"] == "P3"  # type: ignore[index]


def test_amtool_check_config_passes_on_shipped_config(stack: Stack) -> None:
    config = stack.part("alertmanager").dir / "alertmanager.yml"
    result = subprocess.run(
        ["amtool", "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_config_passes_on_rendered_config(stack: Stack) -> None:
    config = stack.part("prometheus").dir / "prometheus.yml"
    result = subprocess.run(
        ["promtool", "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
