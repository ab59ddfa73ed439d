"""Block Kit's limits as Slack enforces them: a message breaking one is refused with
`invalid_blocks` (and the list of `errors`), a text above 40,000 characters with `msg_too_long`.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from sandbox.state import STATE

MAX_BLOCKS, MAX_FIELDS, MAX_CONTEXT_ELEMENTS, MAX_ACTION_ELEMENTS = 50, 10, 10, 25
HEADER_TEXT, SECTION_TEXT, FIELD_TEXT, TEXT_OBJECT = 150, 3000, 2000, 3000
BUTTON_TEXT, BUTTON_URL, MESSAGE_TEXT = 75, 3000, 40_000


def fail(error: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error})


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
