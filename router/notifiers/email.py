"""E-mail over SMTP: one message per Alertmanager notification, listing its alerts (as
Alertmanager's own e-mail receiver does), plain text and HTML, for P1 and P3.

The Message-ID is derived from the delivery, so a mail sent twice after a crash is recognisable
as the same message by any mail client.
"""

from __future__ import annotations

import hashlib
import html
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from router.links import links_for
from router.outcome import Delivered, GiveUp, Job, Outcome, RetryLater
from router.settings import RouterSettings
from router.text import bounded_values, one_line, truncate

LinksOf = Callable[[dict[str, Any]], dict[str, str]]
SUBJECT_LIMIT = 200
VALUE_LIMIT = 1_000  # a label value as listed
TEXT_LIMIT = 4_000  # a summary or description as listed
# Mail servers refuse big messages (Exchange's default is 10 MB, the sandbox's too); the plain
# part stops listing alerts here and counts the rest in "and N more". The HTML part is at most a
# few times as long (escaping), so the whole message stays well under the limit.
LISTED_TEXT_BUDGET = 512 * 1024


@dataclass(frozen=True)
class ListedAlert:
    """One alert as an e-mail lists it: its values already cut to their limits."""

    status: str
    alertname: str
    summary: str
    description: str
    labels: dict[str, str]
    links: dict[str, str]

    @classmethod
    def of(cls, alert: dict[str, Any], links: dict[str, str]) -> ListedAlert:
        labels = bounded_values(dict(alert.get("labels", {})), VALUE_LIMIT)
        annotations = dict(alert.get("annotations", {}))
        alertname = labels.get("alertname", "unnamed")
        return cls(
            status=str(alert.get("status", "firing")).upper(),
            alertname=alertname,
            summary=truncate(annotations.get("summary") or alertname, TEXT_LIMIT),
            description=truncate(annotations.get("description", ""), TEXT_LIMIT),
            labels=labels,
            links=links,
        )

    def plain(self) -> str:
        labels = "\n".join(f"    {k} = {v}" for k, v in sorted(self.labels.items()))
        links = "\n".join(f"    {name}: {href}" for name, href in self.links.items())
        return (
            f"[{self.status}] {self.alertname}\n  {self.summary}\n  {self.description}\n"
            f"  Labels:\n{labels}\n  Links:\n{links}\n"
        )

    def html(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
            for k, v in sorted(self.labels.items())
        )
        anchors = " · ".join(
            f'<a href="{html.escape(href, quote=True)}">{html.escape(name)}</a>'
            for name, href in self.links.items()
        )
        return (
            f"<h3>{html.escape(f'[{self.status}] {self.alertname}')}</h3>"
            f"<p>{html.escape(self.summary)}</p><p>{html.escape(self.description)}</p>"
            f"<table>{rows}</table><p>{anchors}</p>"
        )


def listed_alerts(job: Job, links_of: LinksOf) -> tuple[list[ListedAlert], int]:
    """The notification's alerts that fit the budget, and how many more it had (those left out
    here and those Alertmanager left out)."""
    alerts = job.notification_alerts or [job.alert]
    listed: list[ListedAlert] = []
    used = 0
    for index, alert in enumerate(alerts):
        item = ListedAlert.of(alert, job.links if index == 0 else links_of(alert))
        used += len(item.plain())
        if listed and used > LISTED_TEXT_BUDGET:
            break
        listed.append(item)
    return listed, len(alerts) - len(listed) + max(0, job.truncated_alerts)


def subject_for(job: Job, listed: list[ListedAlert], more: int) -> str:
    """`[P3] FIRING HighLatency: summary` for one alert; `[P3] FIRING:9 RESOLVED:1 HighLatency`
    (and N more) for a group, as Alertmanager's own subjects count them."""
    if len(listed) == 1 and not more:
        (only,) = listed
        line = f"[{job.priority}] {only.status} {only.alertname}: {only.summary}"
        return truncate(one_line(line), SUBJECT_LIMIT)
    counts = " ".join(
        f"{status}:{sum(1 for a in listed if a.status == status)}"
        for status in ("FIRING", "RESOLVED")
        if any(a.status == status for a in listed)
    )
    names = ", ".join(dict.fromkeys(a.alertname for a in listed))
    suffix = f" (and {more} more)" if more else ""
    line = truncate(one_line(f"[{job.priority}] {counts} {names}"), SUBJECT_LIMIT - len(suffix))
    return line + suffix


def message_for(job: Job, sender: str, links_of: LinksOf) -> EmailMessage:
    listed, more = listed_alerts(job, links_of)
    message = EmailMessage()
    message["Subject"] = subject_for(job, listed, more)
    message["From"] = sender
    message["To"] = ", ".join(job.route["to"])
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = (
        f"<{hashlib.sha256(job.delivery_key.encode()).hexdigest()[:32]}@{domain}>"
    )
    more_line = f"…and {more} more alerts in this group." if more else ""
    message.set_content(
        f"{len(listed)} alert(s), priority {job.priority}\n\n"
        + "\n".join(item.plain() for item in listed)
        + f"\n{more_line}\n"
    )
    message.add_alternative(
        f"<html><body><h2>{html.escape(f'{len(listed)} alert(s), priority {job.priority}')}</h2>"
        + "".join(item.html() for item in listed)
        + f"<p>{html.escape(more_line)}</p></body></html>",
        subtype="html",
    )
    return message


class EmailNotifier:
    target = "email"

    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings

    def deliver(self, job: Job) -> Outcome:
        s = self.settings
        message = message_for(job, s.smtp_from, lambda alert: links_for(s, alert, job.external_url))
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.target_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_user and s.smtp_password:
                    smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            return GiveUp(f"the mail server refused every recipient: {error.recipients}")
        except smtplib.SMTPResponseException as error:
            if 400 <= error.smtp_code < 500:
                return RetryLater(f"the mail server deferred the message ({error.smtp_code})")
            return GiveUp(f"the mail server rejected the message ({error.smtp_code})")
        except (smtplib.SMTPException, OSError) as error:
            return RetryLater(f"mail server unreachable: {error}")
        return Delivered({"message_id": message["Message-ID"]})
