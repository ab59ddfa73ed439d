"""One settings contract: each process reads its own class, a misspelled name fails loudly, the
stack builds children's environments through one checked helper, and no child needs PYTHONPATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from instrumentation.settings import service_identity
from instrumentation.settings_contract import UnknownSetting, child_environment, settings_classes
from router.settings import RouterSettings
from soundcheck import REPO_ROOT
from soundcheck.configuration_page import CONFIGURATION_PAGE, configuration_page
from soundcheck.settings import StackSettings
from soundcheck.stack.errors import StartFailed
from soundcheck.stack.part import refuse_shadowed_variables
from soundcheck.stack.parts.booking import Booking, booking_environment
from soundcheck.stack.parts.pipeline import Pipeline
from soundcheck.stack.parts.router import Router
from soundcheck.stack.parts.sandbox import Sandbox

PACKAGES = [
    "alert_rules",
    "booking_app",
    "dashboards",
    "instrumentation",
    "loadtest",
    "pipeline",
    "router",
    "sandbox",
    "soundcheck",
]
PYTHON_PARTS = [Booking, Pipeline, Router, Sandbox]


def run_python(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_misspelled_name_for_a_child_fails_naming_it() -> None:
    with pytest.raises(UnknownSetting, match=r"SOUNDCHECK_ROUTER_PROT\b.*SOUNDCHECK_ROUTER_PORT"):
        child_environment((RouterSettings,), {"SOUNDCHECK_ROUTER_PROT": 8080})


def test_a_misspelled_override_for_a_booking_instance_fails_before_it_starts(
    tmp_path: Path,
) -> None:
    with pytest.raises(UnknownSetting, match=r"BOOKING_WORKRES\b.*BOOKING_WORKERS"):
        booking_environment(StackSettings(home=tmp_path), tmp_path, 0, "x", {"BOOKING_WORKRES": 2})


def test_a_child_is_never_given_pythonpath() -> None:
    with pytest.raises(UnknownSetting, match="PYTHONPATH"):
        child_environment((RouterSettings,), {"PYTHONPATH": str(REPO_ROOT)})


def test_a_child_may_be_given_the_standard_otel_variables() -> None:
    env = child_environment((RouterSettings,), {"OTEL_SERVICE_NAME": "router"})
    assert env == {"OTEL_SERVICE_NAME": "router"}
    with pytest.raises(UnknownSetting, match="OTEL_SERVISE_NAME"):
        child_environment((RouterSettings,), {"OTEL_SERVISE_NAME": "router"})


@pytest.mark.parametrize("part", PYTHON_PARTS, ids=lambda part: part.name)
def test_stack_parts_build_checked_environments_without_pythonpath(
    part: type[Booking | Pipeline | Router | Sandbox], tmp_path: Path
) -> None:
    env = part(StackSettings(home=tmp_path)).environment()
    assert env, "each Python part sets its child's settings"
    assert "PYTHONPATH" not in env


def test_the_router_child_names_its_traces_and_sends_them_to_the_stack(tmp_path: Path) -> None:
    settings = StackSettings(home=tmp_path)
    env = Router(settings).environment()
    # The router's FastAPI app names no service: without this its spans were `soundcheck`'s.
    assert env["OTEL_SERVICE_NAME"] == "router"
    endpoint = f"http://{settings.host}:{settings.pipeline_otlp_port}"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == endpoint


def test_a_child_variable_set_in_the_stack_environment_fails_instead_of_being_replaced(
    tmp_path: Path,
) -> None:
    env = Router(StackSettings(home=tmp_path)).environment()
    with pytest.raises(StartFailed, match="SOUNDCHECK_ROUTER_PORT is set"):
        refuse_shadowed_variables("router", env, {"SOUNDCHECK_ROUTER_PORT": "9000"})
    refuse_shadowed_variables("router", env, {"SOUNDCHECK_STACK_ROUTER_PORT": "9000"})


def test_the_router_own_token_in_the_stack_environment_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUNDCHECK_ROUTER_TOKEN", "old-name")
    with pytest.raises(StartFailed, match="SOUNDCHECK_STACK_ROUTER_TOKEN"):
        Router(StackSettings(home=tmp_path)).prepare()


@pytest.mark.parametrize("cls", settings_classes(), ids=lambda cls: cls.__name__)
def test_an_unknown_variable_with_a_class_prefix_is_refused(
    cls: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"{cls.env_prefix()}NO_SUCH_SETTING"
    monkeypatch.setenv(name, "1")
    with pytest.raises(ValidationError, match=name):
        cls()


def test_a_variable_of_a_sibling_class_is_not_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # SOUNDCHECK_HOME is the stack's; the telemetry of a child that inherits it reads the same
    # prefix and must not stop for it.
    from instrumentation.settings import TelemetrySettings

    monkeypatch.setenv("SOUNDCHECK_HOME", str(REPO_ROOT / "elsewhere"))
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_PAYMENTS", "p" * 32)
    assert TelemetrySettings().enabled
    assert RouterSettings().secret_from_env("pagerduty_key_payments") == "p" * 32


@pytest.mark.parametrize(
    ("module", "misspelled"),
    [("sandbox", "SOUNDCHECK_SANDBOX_PROT"), ("router", "SOUNDCHECK_ROUTER_TOKN")],
)
def test_a_process_started_with_a_misspelled_variable_stops_naming_it(
    module: str, misspelled: str, tmp_path: Path
) -> None:
    done = run_python(["-m", module], tmp_path, {**os.environ, misspelled: "1"})
    assert done.returncode != 0
    assert misspelled in done.stderr


def test_the_soundcheck_command_refuses_a_misspelled_variable_in_a_sentence(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "SOUNDCHECK_PORT_OFSET": "14000"}
    done = run_python(["-m", "soundcheck.cli", "status"], tmp_path, env)
    assert done.returncode == 2
    assert "SOUNDCHECK_PORT_OFSET (did you mean SOUNDCHECK_PORT_OFFSET?)" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_variable_is_read_by_two_settings_classes() -> None:
    readers: dict[str, list[str]] = {}
    for cls in settings_classes():
        for name in cls.env_names().values():
            readers.setdefault(name, []).append(cls.__name__)
    assert {name: names for name, names in readers.items() if len(names) > 1} == {}


def test_a_field_with_its_own_variable_is_not_also_read_under_its_field_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # StackSettings.router_port is SOUNDCHECK_STACK_ROUTER_PORT; SOUNDCHECK_ROUTER_PORT is the
    # router's own variable and must not move the stack's router (it did, by populate_by_name).
    for name in [n for n in os.environ if n.startswith("SOUNDCHECK_")]:
        monkeypatch.delenv(name)  # a developer's SOUNDCHECK_PORT_OFFSET moves every default port
    checked = 0
    for cls in settings_classes():
        for field, name in cls.env_names().items():
            by_field_name = (cls.env_prefix() + field).upper()
            if name == by_field_name:
                continue
            monkeypatch.setenv(by_field_name, "12345")
            assert getattr(cls(), field) == cls.model_fields[field].default, by_field_name
            monkeypatch.delenv(by_field_name)
            checked += 1
    assert checked >= 5  # the stack's own-service ports and token


def test_every_package_imports_from_outside_the_repository_without_pythonpath(
    tmp_path: Path,
) -> None:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    code = (
        "import importlib, sys; print([importlib.import_module(n).__file__ for n in sys.argv[1:]])"
    )
    done = run_python(["-c", code, *PACKAGES], tmp_path, env)
    assert done.returncode == 0, done.stderr
    for package in PACKAGES:
        assert str(REPO_ROOT / package / "__init__.py") in done.stdout  # editable: the repo


def test_otel_variables_win_over_the_code_given_service_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert service_identity("booking") == ("booking", "local")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "booking-canary")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging")
    assert service_identity("booking") == ("booking-canary", "staging")


def test_the_configuration_page_is_current() -> None:
    assert CONFIGURATION_PAGE.read_text() == configuration_page(), (
        "docs/configuration.md is stale: run .venv/bin/python -m soundcheck.configuration_page"
    )
