"""Writes each dashboard's JSON (`python -m dashboards`); a test fails when the files are stale."""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards.definitions import DASHBOARDS, build
from dashboards.spec import DashboardSpec

OUTPUT = Path(__file__).parent / "json"


def to_json(spec: DashboardSpec) -> str:
    return json.dumps(build(spec).build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def rendered() -> dict[Path, str]:
    return {OUTPUT / f"{spec.uid}.json": to_json(spec) for spec in DASHBOARDS}


def main() -> None:
    OUTPUT.mkdir(exist_ok=True)
    for path, text in rendered().items():
        path.write_text(text)
        print(f"wrote {path}")
