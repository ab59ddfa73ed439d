"""The PNGs uploaded to the fake Slack and Jira (the router's graphs), kept so the sandbox page
can show them as the products would: only PNGs, at most 2 MB each, the newest 200."""

from __future__ import annotations

import threading
from collections import OrderedDict

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LARGEST_BYTES = 2 * 1024 * 1024
KEPT = 200
_images: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def keep_image(key: str, data: bytes) -> bool:
    """Keep `data` under `key` if it is a PNG small enough; whether it is a PNG."""
    if not data.startswith(PNG_MAGIC):
        return False
    if len(data) <= LARGEST_BYTES:
        with _lock:
            _images[key] = data
            while len(_images) > KEPT:
                _images.popitem(last=False)
    return True


def image(key: str) -> bytes | None:
    with _lock:
        return _images.get(key)


def forget_images() -> None:
    with _lock:
        _images.clear()
