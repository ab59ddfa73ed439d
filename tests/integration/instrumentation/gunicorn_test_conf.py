"""Gunicorn config for the instrumented test app: the multiprocess hooks a service uses."""

from instrumentation.gunicorn_hooks import child_exit, on_starting

__all__ = ["child_exit", "on_starting"]
