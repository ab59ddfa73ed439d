"""The stack's error paths: each stops `up` with a sentence naming the problem and the fix."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from soundcheck.settings import StackSettings
from soundcheck.stack import part as part_module
from soundcheck.stack.errors import DownloadFailed, MissingBinary, PortInUse, StackError
from soundcheck.stack.java import ensure_dist, find_java, java_version
from soundcheck.stack.parts.kafka import Kafka
from soundcheck.stack.parts.mariadb import MariaDB
from soundcheck.stack.parts.redis import Redis
from soundcheck.stack.stack import Stack


@pytest.fixture
def settings(tmp_path: Path) -> StackSettings:
    return StackSettings(home=tmp_path / "home", jar_cache=tmp_path / "jars")


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_port_in_use_names_the_port_the_holder_and_the_setting(
    settings: StackSettings, taken_port: int
) -> None:
    settings.redis_port = taken_port
    with pytest.raises(PortInUse) as error:
        Stack(settings, [Redis]).up()
    message = str(error.value)
    assert f"port {taken_port} is already in use" in message
    assert "SOUNDCHECK_REDIS_PORT" in message
    assert f"pid {os.getpid()}" in message  # who holds it: this test process
    assert not Redis(settings).process.was_started()


def test_missing_binary_names_the_debian_package(
    settings: StackSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(part_module, "SYSTEM_DIRS", ())
    with pytest.raises(MissingBinary, match="Install the Debian package `mariadb-server`"):
        Stack(settings, [MariaDB]).up()


def test_missing_java_names_the_setting(settings: StackSettings, tmp_path: Path) -> None:
    settings.java_home = tmp_path / "no-jdk-here"
    with pytest.raises(MissingBinary) as error:
        Stack(settings, [Kafka]).up()
    assert "need Java 17 or newer" in str(error.value)
    assert "SOUNDCHECK_JAVA_HOME" in str(error.value)


def test_too_old_java_is_refused(settings: StackSettings, tmp_path: Path) -> None:
    # A stand-in `java` that reports version 11 the way a real JDK 11 prints it.
    bin_dir = tmp_path / "jdk11" / "bin"
    bin_dir.mkdir(parents=True)
    fake = bin_dir / "java"
    fake.write_text("#!/bin/sh\necho '    java.specification.version = 11' >&2\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    settings.java_home = tmp_path / "jdk11"
    java_version.cache_clear()
    with pytest.raises(MissingBinary, match="is Java 11"):
        find_java(settings)


def test_real_java_is_accepted(settings: StackSettings) -> None:
    assert java_version(find_java(settings)) >= 17


def test_failed_download_names_the_problem_and_the_setting(settings: StackSettings) -> None:
    # Offline with an empty local repository: Maven cannot resolve anything, as with no network.
    empty_repo = settings.jar_cache / "empty-m2"
    settings.maven_args = f"-o -Dmaven.repo.local={empty_repo}"
    with pytest.raises(DownloadFailed) as error:
        ensure_dist(settings, "kafka")
    message = str(error.value)
    assert message.startswith("Could not fetch the kafka jars from Maven Central")
    assert "SOUNDCHECK_MAVEN_ARGS" in message
    assert not list(settings.jar_cache.glob("kafka-*/.complete"))


def test_unknown_part_lists_the_real_ones(settings: StackSettings) -> None:
    with pytest.raises(StackError, match="no part called 'memcached'; the parts are: mariadb"):
        Stack(settings).part("memcached")
