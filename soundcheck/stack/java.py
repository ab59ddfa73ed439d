"""Finding a Java 17+ runtime and the Maven-built jar distributions that Kafka and ES run from.

Jars come from Maven Central through Maven itself (the poms under `soundcheck/java/` pin every
version), into a cache folder outside the repo. A distribution's folder name carries a digest of
its pom and sources, so editing either builds a fresh one and an old one is never half-used.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from soundcheck import REPO_ROOT
from soundcheck.settings import StackSettings
from soundcheck.stack.errors import DownloadFailed, MissingBinary

JAVA_PROJECTS = REPO_ROOT / "soundcheck" / "java"
MINIMUM_JAVA = 17
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def find_java(settings: StackSettings) -> str:
    """The `java` to run Kafka and Elasticsearch with, checked to be version 17 or newer."""
    candidates = []
    if settings.java_home is not None:
        candidates.append(settings.java_home / "bin" / "java")
    elif os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    else:
        on_path = shutil.which("java")
        if on_path:
            candidates.append(Path(on_path))
    java = next((str(c) for c in candidates if c.is_file()), None)
    if java is None:
        where = f" at {candidates[0]}" if candidates else " on PATH"
        raise MissingBinary(
            f"Kafka and Elasticsearch need Java {MINIMUM_JAVA} or newer, but no `java` was found"
            f"{where}. Install openjdk-17-jdk-headless (`make setup` does), or set "
            f"{settings.env_name('java_home')} to a Java {MINIMUM_JAVA}+ installation."
        )
    version = java_version(java)
    if version < MINIMUM_JAVA:
        raise MissingBinary(
            f"{java} is Java {version}; Kafka and Elasticsearch need Java {MINIMUM_JAVA} or newer. "
            f"Set {settings.env_name('java_home')} to a Java {MINIMUM_JAVA}+ installation."
        )
    return java


@cache
def java_version(java: str) -> int:
    result = subprocess.run(
        [java, "-XshowSettings:properties", "-version"], capture_output=True, text=True, check=False
    )
    found = re.search(r"java\.specification\.version = (\d+)", result.stderr + result.stdout)
    return int(found.group(1)) if found else 0


def dist_dir(settings: StackSettings, project: str) -> Path:
    """Where the built distribution of `soundcheck/java/<project>` lives in the jar cache."""
    digest = hashlib.sha256()
    root = JAVA_PROJECTS / project
    for path in sorted(root.rglob("*")):
        if path.is_file() and "target" not in path.relative_to(root).parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return settings.jar_cache / f"{project}-{digest.hexdigest()[:12]}"


def ensure_dist(settings: StackSettings, project: str) -> Path:
    """Build (and so download) a distribution unless the cache already holds it."""
    final = dist_dir(settings, project)
    if (final / ".complete").exists():
        return final
    settings.jar_cache.mkdir(parents=True, exist_ok=True)
    with _locked(settings.jar_cache / f"{project}.lock"):
        if (final / ".complete").exists():  # another process built it while we waited
            return final
        _build(settings, project, final)
    return final


def _build(settings: StackSettings, project: str, final: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MissingBinary(
            f"Fetching the {project} jars needs Maven (`mvn`), which is not installed. "
            "Install the Debian package `maven` (`make setup` does)."
        )
    java = find_java(settings)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    argv = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(JAVA_PROJECTS / project / "pom.xml"),
        f"-DoutputDir={partial}",
        *shlex.split(settings.maven_args),
        "package",
    ]
    env = {**os.environ, "JAVA_HOME": str(Path(java).resolve().parent.parent)}
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    (partial / "maven.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        reason = maven_error(result.stdout + result.stderr) or f"mvn exited {result.returncode}"
        raise DownloadFailed(
            f"Could not fetch the {project} jars from Maven Central: {reason} "
            f"(full log: {partial / 'maven.log'}). Check that Maven Central is reachable, or point "
            f"Maven at a mirror with {settings.env_name('maven_args')}='-s /path/settings.xml'."
        )
    (partial / ".complete").write_text("ok\n")
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)


def maven_error(output: str) -> str:
    """The first real error line of Maven's output, without colour codes and help pointers."""
    for line in ANSI_ESCAPE.sub("", output).splitlines():
        if line.startswith("[ERROR]"):
            text = re.sub(r"\s*-> \[Help \d+\]", "", line.removeprefix("[ERROR]")).strip()
            if text:
                return text[:600]
    return ""


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
