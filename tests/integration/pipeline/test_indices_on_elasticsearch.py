"""Templates and the retention sweep against the real Elasticsearch (no x-pack, so no ILM)."""

from __future__ import annotations

import time

import httpx

from pipeline.indices import cluster_has_ilm, sweep_retention
from tests.support.polling import eventually


def test_new_daily_indices_get_the_template_and_old_ones_are_swept(
    es: httpx.Client, service: str, pipeline_url: str
) -> None:
    eventually(
        lambda: es.get("/_index_template/soundcheck-logs").status_code == 200,
        60,
        "the pipeline installed its index templates",
    )
    today = time.strftime("%Y.%m.%d", time.gmtime())
    old, recent = f"logs-{service}-2020.01.01", f"logs-{service}-{today}"
    for index in (old, recent):
        es.put(f"/{index}").raise_for_status()
    settings = es.get(f"/{recent}/_settings").json()[recent]["settings"]["index"]
    assert (settings["number_of_shards"], settings["refresh_interval"]) == ("1", "5s")
    mapping = es.get(f"/{recent}/_mapping").json()[recent]["mappings"]
    assert mapping["properties"]["trace"]["properties"]["id"]["type"] == "keyword"

    deleted = sweep_retention(es, retention_days=30)
    assert old in deleted
    assert es.head(f"/{old}").status_code == 404
    assert es.head(f"/{recent}").status_code == 200


def test_ilm_is_detected_as_absent_on_the_embedded_cluster(es: httpx.Client) -> None:
    assert cluster_has_ilm(es) is False
    assert es.get("/_index_template/soundcheck-logs").status_code == 200
    assert es.get("/_component_template/soundcheck-logs-mappings").status_code == 200
