"""Soundcheck: the command line and the local stack of real services."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
