"""The Slack Web API methods the router uses, at `/slack/api/<method>` (slack-sdk's base_url).

`auth.test`, `chat.postMessage`, `chat.update`, `chat.getPermalink` (an address on the sandbox
page, one anchor per message), `conversations.list`, `conversations.history`,
`conversations.replies`,
`files.getUploadURLExternal`, the upload URL it returns, and `files.completeUploadExternal`.
Errors are Slack's: HTTP 200 with `ok: false`, and 429 with Retry-After. Block Kit's limits are
Slack's too (slack_limits.py); the channels and messages are in slack_workspace.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from sandbox.images import keep_image
from sandbox.slack_limits import fail, message_refused
from sandbox.slack_workspace import (
    channels,
    files,
    find_message,
    lock,
    message_anchor,
    messages,
    next_ts,
    resolve_channel,
)
from sandbox.state import STATE, injected_fault

router = APIRouter()


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


def authorised(request: Request, args: dict[str, Any]) -> bool:
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() or str(args.get("token", ""))
    return token.startswith("xox")


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
        files[file_id]["png"] = keep_image(f"slack-{file_id}", data)
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


def get_permalink(request: Request, args: dict[str, Any]) -> Response:
    """Where a person sees the message: Slack answers its archive URL, the sandbox its page."""
    cid, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
    if cid not in channels:
        return fail("channel_not_found")
    with lock:
        if find_message(cid, ts) is None:
            return fail("message_not_found")
    permalink = f"{str(request.base_url).rstrip('/')}/_sandbox#{message_anchor(cid, ts)}"
    return JSONResponse({"ok": True, "channel": cid, "permalink": permalink})


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
    "chat.getPermalink": get_permalink,
    "conversations.list": conversations_list,
    "conversations.history": history,
    "conversations.replies": replies,
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
