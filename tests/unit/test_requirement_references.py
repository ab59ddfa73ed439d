"""Every requirement ID the code, tests and docs cite (B3, O2, R4, L2, S1, ...) is explained in
docs/requirements.md, and nothing cites an issue number instead of saying the reason, so every
reference resolves for someone who has only the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "docs" / "requirements.md"
# B1-B12, O1-O5, A1-A4, R1-R7, L1-L6 and the load scenarios S1-S4, standing alone (not in `%D9`,
# a word or a path).
CITED = re.compile(r"(?<![\w%/-])([BOARL](?:1[0-9]|[1-9])|S[1-9])(?![\w%/])")
# Named on purpose as IDs that do not exist.
NOT_CITATIONS = {("S9", "tests/unit/loadtest/test_load_stages_and_thresholds.py")}
ISSUE_NUMBER = re.compile(r"\bissues? #?[0-9]+", re.IGNORECASE)
# Every text a reader of the repository meets: code, docs, configuration, scripts, build files,
# pages (a comment in setup.sh or a pom.xml is read as much as a docstring).
CHECKED = (
    "*.py",
    "*.md",
    "*.yml",
    "*.yaml",
    "*.sh",
    "*.xml",
    "*.toml",
    "*.html",
    "*.js",
    "Makefile",
)
EXPLAINED = re.compile(r"^\| ([BOARL]\d+) \||\*\*(S\d)\*\*", re.MULTILINE)


def citing_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", *CHECKED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # This page explains them; this module names some that do not exist.
    return [ROOT / name for name in listed if ROOT / name not in (REQUIREMENTS, Path(__file__))]


def test_every_cited_requirement_is_explained() -> None:
    explained = {a or b for a, b in EXPLAINED.findall(REQUIREMENTS.read_text())}
    unexplained = {
        (match, str(path.relative_to(ROOT)))
        for path in citing_files()
        if path.exists()
        for match in CITED.findall(path.read_text(errors="replace"))
        if match not in explained
    }
    assert unexplained - NOT_CITATIONS == set()


def test_nothing_cites_an_issue_number() -> None:
    citing = {
        str(path.relative_to(ROOT))
        for path in citing_files()
        if path.exists() and ISSUE_NUMBER.search(path.read_text(errors="replace"))
    }
    assert citing == set()


def test_the_readme_links_the_requirements() -> None:
    assert "(docs/requirements.md)" in (ROOT / "README.md").read_text()
