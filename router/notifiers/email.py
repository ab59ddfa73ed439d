"""E-mail over SMTP: plain text and HTML in one message, for P1 and P3.

The Message-ID is derived from the delivery, so a mail sent twice after a crash is recognisable
as the same message by any mail client.
"""

from __future__ import annotations

import hashlib
import html
import smtplib
import ssl
from email.message import EmailMessage

from router.notifiers.base import status_word
from router.outcome import Delivered, GiveUp, Job, Outcome, RetryLater
from router.settings import RouterSettings
from router.text import one_line, truncate


def message_for(job: Job, sender: str) -> EmailMessage:
    state = status_word(job)
    message = EmailMessage()
    message["Subject"] = truncate(
        one_line(f"[{job.priority}] {state} {job.alertname}: {job.summary}"), 200
    )
    message["From"] = sender
    message["To"] = ", ".join(job.route["to"])
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = (
        f"<{hashlib.sha256(job.delivery_key.encode()).hexdigest()[:32]}@{domain}>"
    )
    labels = "\n".join(f"  {k} = {v}" for k, v in sorted(job.labels.items()))
    links = "\n".join(f"  {name}: {href}" for name, href in job.links.items())
    message.set_content(
        f"{state} {job.priority} {job.alertname}\n\n{job.summary}\n\n"
        f"{job.annotations.get('description', '')}\n\nLabels:\n{labels}\n\nLinks:\n{links}\n"
    )
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in sorted(job.labels.items())
    )
    anchors = " · ".join(
        f'<a href="{html.escape(href, quote=True)}">{html.escape(name)}</a>'
        for name, href in job.links.items()
    )
    message.add_alternative(
        f"<html><body><h2>{html.escape(f'{state} {job.priority} {job.alertname}')}</h2>"
        f"<p>{html.escape(job.summary)}</p>"
        f"<p>{html.escape(job.annotations.get('description', ''))}</p>"
        f"<table>{rows}</table><p>{anchors}</p></body></html>",
        subtype="html",
    )
    return message


class EmailNotifier:
    target = "email"

    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings

    def deliver(self, job: Job) -> Outcome:
        s = self.settings
        message = message_for(job, s.smtp_from)
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
