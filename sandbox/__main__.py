"""`python -m sandbox`: the HTTP fakes on SOUNDCHECK_SANDBOX_PORT and the SMTP sink beside them."""

from __future__ import annotations

import uvicorn

from sandbox.app import app
from sandbox.settings import load_settings
from sandbox.smtp import start_smtp


def main() -> None:
    settings = load_settings()
    smtp = start_smtp(settings.host, settings.smtp_port)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
