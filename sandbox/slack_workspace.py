"""The sandbox Slack workspace: channels (three preset), their messages with threads, and uploaded
files, as the Web API methods in slack.py change them.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

lock = threading.RLock()


channels: dict[str, str] = {}  # id -> name


messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> messages, oldest first


files: dict[str, dict[str, Any]] = {}


PRESET_CHANNELS = ("alerts-critical", "alerts-high", "alerts-warning")


_ts_counter = [0]


def channel_id_for(name: str) -> str:
    return "C" + hashlib.sha256(name.encode()).hexdigest()[:10].upper()


def reset() -> None:
    with lock:
        channels.clear()
        messages.clear()
        files.clear()
        for name in PRESET_CHANNELS:
            channels[channel_id_for(name)] = name
            messages[channel_id_for(name)] = []


reset()


def next_ts() -> str:
    with lock:
        _ts_counter[0] += 1
        return f"{int(time.time())}.{_ts_counter[0]:06d}"


def resolve_channel(value: str) -> str | None:
    """A channel id from an id or a `#name`/`name`; a new name makes a channel (as a bot could)."""
    with lock:
        if value in channels:
            return value
        name = value.lstrip("#")
        if not name or (value.startswith(("C", "G", "D")) and value.isupper()):
            return None
        cid = channel_id_for(name)
        channels.setdefault(cid, name)
        messages.setdefault(cid, [])
        return cid


def message_anchor(cid: str, ts: str) -> str:
    """The sandbox page's anchor of a message (Slack's archive URLs end `p<ts without dot>`)."""
    return f"slack-{cid}-p{ts.replace('.', '')}"


def find_message(cid: str, ts: str) -> dict[str, Any] | None:
    return next((m for m in messages.get(cid, []) if m["ts"] == ts), None)


def snapshot() -> dict[str, Any]:
    with lock:
        return {channels[cid]: json.loads(json.dumps(msgs)) for cid, msgs in messages.items()}
