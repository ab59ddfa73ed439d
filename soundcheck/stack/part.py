"""What every part of the stack has in common: its directory, process, ports and health probe."""

from __future__ import annotations

import os
import shutil
import string
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import httpx

from instrumentation.settings_contract import LIBRARY_VARIABLES
from soundcheck import REPO_ROOT
from soundcheck.settings import StackSettings
from soundcheck.stack.errors import MissingBinary, PortInUse, StartFailed
from soundcheck.stack.ports import port_is_free, who_listens
from soundcheck.stack.process import ManagedProcess

TEMPLATES = REPO_ROOT / "soundcheck" / "templates"
SYSTEM_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def refuse_shadowed_variables(
    part: str, child: Mapping[str, str], environ: Mapping[str, str]
) -> None:
    """Fail when our environment sets a variable that the stack sets otherwise for the child:
    the child would silently get the stack's value (`SOUNDCHECK_ROUTER_PORT=9000` does not move
    the stack's router; `SOUNDCHECK_STACK_ROUTER_PORT` does)."""
    shadowed = sorted(
        name
        for name, value in child.items()
        if name in environ and environ[name] != value and name not in LIBRARY_VARIABLES
    )
    if shadowed:
        raise StartFailed(
            f"{part} cannot start: {', '.join(shadowed)} is set in this environment, but the "
            f"stack sets it for the {part} itself. Unset it; the stack's own settings "
            "(SOUNDCHECK_STACK_* among them) are listed in docs/configuration.md."
        )


class NotReady(Exception):
    """The part's health probe did not pass (yet); the message says what it saw."""


class State(StrEnum):
    RUNNING = "running"
    STARTING = "starting"
    UNHEALTHY = "unhealthy"
    CRASHED = "crashed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class PartStatus:
    name: str
    state: State
    address: str
    version: str = ""
    pid: int | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "state": str(self.state),
            "address": self.address,
            "version": self.version,
            "pid": self.pid,
            "detail": self.detail,
        }


class Part(ABC):
    """A real service run as our own process, with its data under `.soundcheck/<name>/`."""

    name: str
    needs_java = False
    # Parts started in the same `up` that must pass their health check before this one starts.
    starts_after: tuple[str, ...] = ()
    # Starts once every other part started in the same `up` has passed its health check (or
    # failed): for the part that judges the others' health, which must not judge them while
    # they are still starting.
    starts_last = False

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.dir = settings.part_dir(self.name)
        self.process = ManagedProcess(self.dir)

    @classmethod
    def instances(cls, settings: StackSettings) -> Sequence[Part]:
        """The parts of this type the stack runs: one, unless the settings ask for several."""
        return [cls(settings)]

    # --- what each part defines -------------------------------------------------------------
    @abstractmethod
    def port_settings(self) -> dict[str, int]:
        """Every port the part listens on, keyed by the setting that changes it."""

    @abstractmethod
    def address(self) -> str:
        """Where a client connects, e.g. `127.0.0.1:6379` or `http://127.0.0.1:9200`."""

    @abstractmethod
    def command(self) -> list[str]:
        """The argv that runs the part in the foreground."""

    @abstractmethod
    def probe(self) -> str:
        """Check the part answers for real; return its version, or raise NotReady."""

    def check_installed(self) -> None:
        """Raise MissingBinary when something the part runs is not installed."""

    def fetch(self) -> None:
        """Download what the part needs (jars); may take minutes the first time."""

    def prepare(self) -> None:
        """Write config and initialise data on first start; must be idempotent."""

    def after_ready(self) -> None:
        """Runs once the probe passes after a start (e.g. create the database)."""

    def environment(self) -> dict[str, str]:
        return {}

    # --- shared behaviour -------------------------------------------------------------------
    def check_ports_free(self) -> None:
        for setting, port in self.port_settings().items():
            if not port_is_free(self.settings.host, port):
                holder = who_listens(port) or "another process"
                raise PortInUse(
                    f"{self.name} cannot start: port {port} is already in use by {holder}. "
                    f"Stop that process, or set {self.settings.env_name(setting)} to a free port."
                )

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        env = self.environment()
        refuse_shadowed_variables(self.name, env, os.environ)
        # Every part runs in its own directory: our Python services are installed packages
        # (`uv sync`), found without the repository on PYTHONPATH or as the working directory.
        self.process.start(self.command(), env=env)

    def status(self) -> PartStatus:
        proc = self.process.process()
        if proc is None:
            if self.process.was_started():
                return PartStatus(
                    self.name,
                    State.CRASHED,
                    self.address(),
                    detail=f"exited without being stopped; see {self.process.log_file}",
                )
            return PartStatus(self.name, State.STOPPED, self.address())
        try:
            version = self.probe()
        except NotReady as why:
            record = self.process.record()
            age = time.time() - (record.started_at if record else 0.0)
            young = age < self.settings.start_timeout_seconds
            state = State.STARTING if young else State.UNHEALTHY
            return PartStatus(self.name, state, self.address(), pid=proc.pid, detail=str(why))
        return PartStatus(self.name, State.RUNNING, self.address(), version, pid=proc.pid)

    def run_once(self, what: str, argv: list[str]) -> None:
        """Run a one-off set-up step (format, install-db); its output goes to the part's log."""
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.process.log_file.open("a") as log:
            log.write(f"--- soundcheck: {what}\n{result.stdout}{result.stderr}")
        if result.returncode != 0:
            raise StartFailed(
                f"{what} failed for {self.name} (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-500:]}"
            )

    def render(self, template: Path, destination: Path, **values: object) -> Path:
        """Fill a template's string.Template `${name}` fields and write the result."""
        text = string.Template(template.read_text()).substitute(values)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text)
        return destination


def expect_http_ok(url: str, timeout: float) -> None:
    """Raise NotReady unless GET `url` answers 200: the probe of our own HTTP services."""
    try:
        answer = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as error:
        raise NotReady(f"no answer from {url}: {error}") from error
    if answer.status_code != 200:
        raise NotReady(f"{url} answered {answer.status_code}: {answer.text[:200]}")


def find_binary(name: str, package: str, part: str) -> str:
    """The path of an installed program, looking in sbin folders a non-root PATH lacks."""
    found = shutil.which(name) or next(
        (str(Path(d) / name) for d in SYSTEM_DIRS if (Path(d) / name).is_file()), None
    )
    if found is None:
        raise MissingBinary(
            f"{part} needs the program `{name}`, which is not installed. "
            f"Install the Debian package `{package}` (`make setup` does)."
        )
    return found
