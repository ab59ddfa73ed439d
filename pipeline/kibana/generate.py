"""Writes `saved_objects.ndjson`, importable in Kibana 7.17 (Stack Management → Saved objects).

Run `python -m pipeline.kibana.generate` after changing `pipeline/searches.py`; a unit test fails
while the committed file is stale. Ids are stable, so re-importing overwrites instead of copying.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.searches import DATA_VIEWS, SAVED_SEARCHES, SavedSearch

OUTPUT = Path(__file__).with_name("saved_objects.ndjson")
KIBANA_VERSION = "7.17.0"
INDEX_REFERENCE = "kibanaSavedObjectMeta.searchSourceJSON.index"


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def data_view_objects() -> list[dict[str, Any]]:
    return [
        {
            "attributes": {
                "fieldAttrs": "{}",
                "fields": "[]",
                "runtimeFieldMap": "{}",
                "timeFieldName": "@timestamp",
                "title": view.title,
                "typeMeta": "{}",
            },
            "coreMigrationVersion": KIBANA_VERSION,
            "id": view.id,
            "migrationVersion": {"index-pattern": "7.11.0"},
            "references": [],
            "type": "index-pattern",
        }
        for view in DATA_VIEWS
    ]


def search_object(search: SavedSearch) -> dict[str, Any]:
    view = next(v for v in DATA_VIEWS if v.title == search.index)
    source = {
        "filter": [],
        "highlightAll": True,
        "indexRefName": INDEX_REFERENCE,
        "query": {"language": "kuery", "query": search.kql()},
        "version": True,
    }
    return {
        "attributes": {
            "columns": list(search.columns),
            "description": search.description,
            "grid": {},
            "hideChart": False,
            "kibanaSavedObjectMeta": {"searchSourceJSON": compact(source)},
            "sort": [["@timestamp", "asc" if search.sort_ascending else "desc"]],
            "title": search.title,
        },
        "coreMigrationVersion": KIBANA_VERSION,
        "id": search.id,
        "migrationVersion": {"search": "7.9.3"},
        "references": [{"id": view.id, "name": INDEX_REFERENCE, "type": "index-pattern"}],
        "type": "search",
    }


def render() -> str:
    objects = data_view_objects() + [search_object(s) for s in SAVED_SEARCHES]
    summary = {
        "excludedObjects": [],
        "excludedObjectsCount": 0,
        "exportedCount": len(objects),
        "missingRefCount": 0,
        "missingReferences": [],
    }
    return "".join(compact(item) + "\n" for item in [*objects, summary])


def main() -> None:
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
