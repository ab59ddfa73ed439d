"""An SMTP sink (aiosmtpd): every message is parsed and listed like the HTTP targets' calls.

Faults apply here too: 429/error/down answer 451 (try later) or 554, as a real server would.
A message above 10 MiB (Exchange Server's default limit) is refused with 552, as real ones are.
"""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from sandbox.state import STATE

MESSAGE_BYTES_LIMIT = 10 * 1024 * 1024


class SinkHandler:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = STATE.active_fault("email")
        if fault is not None and fault.kind != "latency":
            STATE.record("email", "fault", {"kind": fault.kind})
            return (
                "554 5.0.0 sandbox fault"
                if fault.kind == "error" and fault.status >= 500 and fault.status != 503
                else "451 4.3.0 sandbox says try later"
            )
        content = (
            envelope.content
            if isinstance(envelope.content, bytes)
            else str(envelope.content).encode()
        )
        message = message_from_bytes(content, policy=default_policy)
        parts: dict[str, str] = {}
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_subtype()] = str(part.get_content())
        body: dict[str, Any] = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(message.get("Subject", "")),
            "message_id": str(message.get("Message-ID", "")),
            "plain": parts.get("plain", ""),
            "html": parts.get("html", ""),
        }
        STATE.record("email", "message", body)
        return "250 OK"


def start_smtp(host: str, port: int) -> Controller:
    controller = Controller(
        SinkHandler(), hostname=host, port=port, data_size_limit=MESSAGE_BYTES_LIMIT
    )
    controller.start()
    return controller
