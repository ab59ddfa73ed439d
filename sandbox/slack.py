"""The Slack Web API methods the router uses, at `/slack/api/<method>` (slack-sdk's base_url).

`auth.test`, `chat.postMessage`, `chat.update`, `conversations.list`, `conversations.history`,
`conversations.replies`,
`files.getUploadURLExternal`, the upload URL it returns, and `files.completeUploadExternal`.
Errors are Slack's: HTTP 200 with `ok: false`, and 429 with Retry-After. Block Kit's limits are
Slack's too: a message breaking one is refused with `invalid_blocks` (and the list of `errors`),
a text above 40,000 characters with `msg_too_long`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from sandbox.state import STATE, injected_fault

router = APIRouter()
lock = threading.RLock()
channels: dict[str, str] = {}  # id -> name
messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> messages, oldest first
files: dict[str, dict[str, Any]] = {}
PRESET_CHANNELS = ("alerts-critical", "alerts-high", "alerts-warning")
MAX_BLOCKS, MAX_FIELDS, MAX_CONTEXT_ELEMENTS, MAX_ACTION_ELEMENTS = 50, 10, 10, 25
HEADER_TEXT, SECTION_TEXT, FIELD_TEXT, TEXT_OBJECT = 150, 3000, 2000, 3000
BUTTON_TEXT, BUTTON_URL, MESSAGE_TEXT = 75, 3000, 40_000
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


async def arguments(request: Request) -> dict[str, Any]:
    """Slack takes arguments as query, form or JSON; slack-sdk uses all three."""
    args: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if body and "json" in content_type:
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            args.update(parsed)
    elif body:
        args.update(dict(parse_qsl(body.decode("utf-8", "replace"))))
    for key in ("blocks", "metadata", "files"):
        if isinstance(args.get(key), str):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


def fail(error: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error})


def authorised(request: Request, args: dict[str, Any]) -> bool:
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() or str(args.get("token", ""))
    return token.startswith("xox")


def _too_long(text_object: Any, limit: int, where: str) -> list[str]:
    text = text_object.get("text", "") if isinstance(text_object, dict) else ""
    if not isinstance(text, str) or len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{where}/text]"]
    return []


def _too_many(items: Any, limit: int, where: str) -> list[str]:
    if isinstance(items, list) and len(items) > limit:
        return [f"must be no more than {limit} items [json-pointer:{where}]"]
    return []


def block_problems(block: Any, where: str) -> list[str]:
    """What Slack would say about one block, for the limits the router can run into."""
    if not isinstance(block, dict):
        return [f"expected an object [json-pointer:{where}]"]
    kind = block.get("type")
    problems: list[str] = []
    if kind == "header":
        header = block.get("text")
        if not isinstance(header, dict) or header.get("type") != "plain_text":
            problems.append(f"must be a plain_text object [json-pointer:{where}/text]")
        problems += _too_long(block.get("text"), HEADER_TEXT, f"{where}/text")
    elif kind == "section":
        if "text" in block:
            problems += _too_long(block["text"], SECTION_TEXT, f"{where}/text")
        fields = block.get("fields") or []
        problems += _too_many(fields, MAX_FIELDS, f"{where}/fields")
        for index, field in enumerate(fields):
            problems += _too_long(field, FIELD_TEXT, f"{where}/fields/{index}")
    elif kind == "context":
        elements = block.get("elements") or []
        problems += _too_many(elements, MAX_CONTEXT_ELEMENTS, f"{where}/elements")
        for index, element in enumerate(elements):
            if isinstance(element, dict) and "text" in element:
                problems += _too_long(element, TEXT_OBJECT, f"{where}/elements/{index}")
    elif kind == "actions":
        elements = block.get("elements") or []
        problems += _too_many(elements, MAX_ACTION_ELEMENTS, f"{where}/elements")
        for index, element in enumerate(elements):
            at = f"{where}/elements/{index}"
            if not isinstance(element, dict):
                problems.append(f"expected an object [json-pointer:{at}]")
                continue
            problems += _too_long(element.get("text"), BUTTON_TEXT, f"{at}/text")
            if len(str(element.get("url", ""))) > BUTTON_URL:
                problems.append(
                    f"must be less than {BUTTON_URL + 1} characters [json-pointer:{at}/url]"
                )
    return problems


def message_refused(args: dict[str, Any]) -> JSONResponse | None:
    """Slack's answer to a message beyond its limits, or None when it would be accepted."""
    if len(str(args.get("text", ""))) > MESSAGE_TEXT:
        return fail("msg_too_long")
    blocks = args.get("blocks") or []
    if not isinstance(blocks, list):
        return fail("invalid_blocks_format")
    problems = _too_many(blocks, MAX_BLOCKS, "/blocks")
    for index, block in enumerate(blocks):
        problems += block_problems(block, f"/blocks/{index}")
    if problems:
        STATE.record("slack", "rejected", {"errors": problems})
        return JSONResponse({"ok": False, "error": "invalid_blocks", "errors": problems})
    return None


def find_message(cid: str, ts: str) -> dict[str, Any] | None:
    return next((m for m in messages.get(cid, []) if m["ts"] == ts), None)


@router.post("/slack/upload/{file_id}")
async def upload(file_id: str, request: Request) -> Response:
    fault = await injected_fault("slack")
    if fault is not None:
        return fault
    data = await request.body()
    with lock:
        if file_id not in files:
            return Response("unknown upload", status_code=404)
        files[file_id]["size"] = len(data)
        files[file_id]["png"] = data[:8] == b"\x89PNG\r\n\x1a\n"
    STATE.record("slack", "upload", {"file_id": file_id, "bytes": len(data)})
    return Response("OK - " + str(len(data)), status_code=200)


@router.api_route("/slack/api/{method}", methods=["GET", "POST"])
async def api(method: str, request: Request) -> Response:
    fault = await injected_fault("slack")
    if fault is not None:
        return fault
    args = await arguments(request)
    if not authorised(request, args):
        return fail("not_authed")
    handler = METHODS.get(method)
    if handler is None:
        return fail("unknown_method")
    return handler(request, args)


def auth_test(_request: Request, _args: dict[str, Any]) -> Response:
    return JSONResponse(
        {
            "ok": True,
            "url": "https://sandbox.slack.local/",
            "team": "sandbox",
            "user": "soundcheck",
            "team_id": "T0SANDBOX",
            "user_id": "U0ROUTER",
            "bot_id": "B0ROUTER",
        }
    )


def post_message(_request: Request, args: dict[str, Any]) -> Response:
    cid = resolve_channel(str(args.get("channel", "")))
    if cid is None:
        return fail("channel_not_found")
    if not args.get("text") and not args.get("blocks"):
        return fail("no_text")
    refused = message_refused(args)
    if refused is not None:
        return refused
    thread_ts = args.get("thread_ts")
    if thread_ts and find_message(cid, str(thread_ts)) is None:
        return fail("thread_not_found")
    message = {
        "ts": next_ts(),
        "text": args.get("text", ""),
        "blocks": args.get("blocks") or [],
        "thread_ts": thread_ts,
        "metadata": args.get("metadata"),
        "replies": [],
        "edits": 0,
    }
    with lock:
        if thread_ts:
            parent = find_message(cid, str(thread_ts))
            if parent is None:
                return fail("thread_not_found")
            parent["replies"].append(message)
        else:
            messages[cid].append(message)
    STATE.record("slack", "chat.postMessage", args, channel=cid, ts=message["ts"])
    return JSONResponse(
        {
            "ok": True,
            "channel": cid,
            "ts": message["ts"],
            "message": {"text": message["text"], "ts": message["ts"]},
        }
    )


def update(_request: Request, args: dict[str, Any]) -> Response:
    cid, ts = str(args.get("channel", "")), str(args.get("ts", ""))
    if cid not in channels:
        return fail("channel_not_found")  # chat.update takes an id, never a name
    refused = message_refused(args)
    if refused is not None:
        return refused
    with lock:
        message = find_message(cid, ts)
        if message is None:
            return fail("message_not_found")
        message["text"] = args.get("text", message["text"])
        message["blocks"] = args.get("blocks") or message["blocks"]
        message["edits"] += 1
    STATE.record("slack", "chat.update", args, channel=cid, ts=ts)
    return JSONResponse({"ok": True, "channel": cid, "ts": ts, "text": args.get("text", "")})


def conversations_list(_request: Request, _args: dict[str, Any]) -> Response:
    with lock:
        listed = [{"id": cid, "name": name, "is_channel": True} for cid, name in channels.items()]
    return JSONResponse({"ok": True, "channels": listed, "response_metadata": {"next_cursor": ""}})


def history(_request: Request, args: dict[str, Any]) -> Response:
    cid = str(args.get("channel", ""))
    if cid not in channels:
        return fail("channel_not_found")
    with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
    limit = int(args.get("limit", 100) or 100)
    with lock:
        found = [
            {
                "type": "message",
                "ts": m["ts"],
                "text": m["text"],
                **({"metadata": m["metadata"]} if with_metadata and m["metadata"] else {}),
            }
            for m in reversed(messages[cid])
        ][:limit]
    return JSONResponse({"ok": True, "messages": found, "has_more": False})


def replies(_request: Request, args: dict[str, Any]) -> Response:
    cid, ts = str(args.get("channel", "")), str(args.get("ts", ""))
    if cid not in channels:
        return fail("channel_not_found")
    with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
    with lock:
        parent = find_message(cid, ts)
        if parent is None:
            return fail("thread_not_found")
        thread = [parent, *parent["replies"]]
        found = [
            {
                "type": "message",
                "ts": m["ts"],
                "text": m.get("text", ""),
                **({"metadata": m["metadata"]} if with_metadata and m.get("metadata") else {}),
            }
            for m in thread
        ]
    return JSONResponse({"ok": True, "messages": found, "has_more": False})


def get_upload_url(request: Request, args: dict[str, Any]) -> Response:
    filename, length = args.get("filename"), args.get("length")
    if not filename or not str(length or "").isdigit():
        return fail("invalid_arguments")
    file_id = "F" + hashlib.sha256(f"{filename}{time.time_ns()}".encode()).hexdigest()[:10].upper()
    with lock:
        files[file_id] = {
            "id": file_id,
            "name": filename,
            "length": int(str(length)),
            "size": None,
            "png": False,
        }
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {"ok": True, "upload_url": f"{base}/slack/upload/{file_id}", "file_id": file_id}
    )


def complete_upload(_request: Request, args: dict[str, Any]) -> Response:
    listed = args.get("files")
    if not isinstance(listed, list) or not listed:
        return fail("invalid_arguments")
    cid = args.get("channel_id")
    thread_ts = args.get("thread_ts")
    completed = []
    with lock:
        for item in listed:
            stored = files.get(str(item.get("id")))
            if stored is None or stored["size"] is None:
                return fail("file_not_found")
            stored.update({"title": item.get("title"), "channel": cid, "thread_ts": thread_ts})
            completed.append(
                {"id": stored["id"], "name": stored["name"], "title": stored.get("title")}
            )
        if cid and thread_ts:
            parent = find_message(str(cid), str(thread_ts))
            if parent is None:
                return fail("thread_not_found")
            parent["replies"].append(
                {"ts": next_ts(), "files": completed, "text": "", "blocks": []}
            )
    STATE.record(
        "slack",
        "files.completeUploadExternal",
        args,
        channel=cid,
        files=[dict(files[c["id"]], **{"png": files[c["id"]]["png"]}) for c in completed],
    )
    return JSONResponse({"ok": True, "files": completed})


METHODS = {
    "auth.test": auth_test,
    "chat.postMessage": post_message,
    "chat.update": update,
    "conversations.list": conversations_list,
    "conversations.history": history,
    "conversations.replies": replies,
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}


def snapshot() -> dict[str, Any]:
    with lock:
        return {channels[cid]: json.loads(json.dumps(msgs)) for cid, msgs in messages.items()}
