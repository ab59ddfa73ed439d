"""`python -m sandbox`: the HTTP fakes on SOUNDCHECK_SANDBOX_PORT and the SMTP sink beside them."""

from __future__ import annotations

import os

import uvicorn

from sandbox.app import app
from sandbox.smtp import start_smtp


def main() -> None:
    host = os.environ.get("SOUNDCHECK_SANDBOX_HOST", "127.0.0.1")
    smtp = start_smtp(host, int(os.environ.get("SOUNDCHECK_SANDBOX_SMTP_PORT", "2525")))
    try:
        uvicorn.run(
            app,
            host=host,
            port=int(os.environ.get("SOUNDCHECK_SANDBOX_PORT", "8099")),
            log_level="warning",
        )
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
