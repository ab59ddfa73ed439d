"""One settings contract: each process reads one `BaseSettings` class, and no name goes unread.

`SETTINGS_CLASSES` lists every settings class of the project. A class built on `StrictSettings`
refuses, when the process starts, an environment variable that carries its prefix but that no
class reads (a typo would otherwise be dropped silently); `child_environment` is the one way a
parent builds a child's environment, and it refuses a name the child's classes do not read.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, ClassVar

import opentelemetry.environment_variables
import opentelemetry.sdk.environment_variables
from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Every settings class, as module:Class (imported only when a check needs them, so that a
# service never loads another service's code). docs/configuration.md is generated from them.
SETTINGS_CLASSES = (
    "soundcheck.settings:StackSettings",
    "soundcheck.settings:TestRunSettings",
    "instrumentation.settings:TelemetrySettings",
    "booking_app.settings:BookingSettings",
    "booking_app.settings:GunicornSettings",
    "router.settings:RouterSettings",
    "pipeline.settings:PipelineSettings",
    "sandbox.settings:SandboxSettings",
)


def _otel_names(*modules: object) -> frozenset[str]:
    return frozenset(
        str(getattr(module, name))
        for module in modules
        for name in dir(module)
        if name.startswith("OTEL_")
    )


# Read by libraries themselves, not by a settings class: the OpenTelemetry SDK's own list of its
# OTEL_* variables, and prometheus_client's multiprocess directory.
LIBRARY_VARIABLES = _otel_names(
    opentelemetry.environment_variables, opentelemetry.sdk.environment_variables
) | {"PROMETHEUS_MULTIPROC_DIR"}


class UnknownSetting(ValueError):
    """An environment variable that no settings class reads: most likely a typo."""


class StrictSettings(BaseSettings):
    """A settings class whose prefix is checked: `<PREFIX>ANYTHING` must be some class's field."""

    # No populate_by_name: a field with an alias (the stack's SOUNDCHECK_STACK_*) must not also be
    # read from <prefix><field>, the variable of the service it describes.
    model_config = SettingsConfigDict(extra="forbid")
    # Names under the prefix that are not fields but are read through the class all the same
    # (the router's per-service PagerDuty keys); a name starting with one of these is known.
    dynamic_env_prefixes: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def env_prefix(cls) -> str:
        return str(cls.model_config.get("env_prefix", "")).upper()

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Field name -> the environment variable that sets it."""
        names = {}
        for field, info in cls.model_fields.items():
            alias = info.validation_alias
            names[field] = (alias if isinstance(alias, str) else cls.env_prefix() + field).upper()
        return names

    @classmethod
    def reads(cls, name: str) -> bool:
        name = name.upper()
        dynamic = tuple(cls.env_prefix() + prefix for prefix in cls.dynamic_env_prefixes)
        return name in cls.env_names().values() or name.startswith(dynamic)

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_names(cls, data: Any) -> Any:
        refuse_unknown_names(cls.env_prefix(), os.environ)
        return data


@cache
def settings_classes() -> tuple[type[StrictSettings], ...]:
    classes = []
    for path in SETTINGS_CLASSES:
        module, name = path.split(":")
        classes.append(getattr(importlib.import_module(module), name))
    return tuple(classes)


def refuse_unknown_names(prefix: str, environ: Mapping[str, str]) -> None:
    """Raise UnknownSetting for any `prefix*` name in `environ` that no settings class reads."""
    if not prefix:
        return
    unknown = sorted(
        name
        for name in environ
        if name.upper().startswith(prefix)
        and not any(cls.reads(name) for cls in settings_classes())
    )
    if unknown:
        raise UnknownSetting(
            "; ".join(_unknown_message(name) for name in unknown)
            + ". Unset it or fix its spelling (docs/configuration.md lists every setting)."
        )


def _unknown_message(name: str, readers: Iterable[type[StrictSettings]] | None = None) -> str:
    known = [
        env for cls in (readers or settings_classes()) for env in cls.env_names().values()
    ] + sorted(LIBRARY_VARIABLES)
    close = difflib.get_close_matches(name.upper(), known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"no setting is read from {name}{hint}"


def child_environment(
    readers: Iterable[type[StrictSettings]], values: Mapping[str, object]
) -> dict[str, str]:
    """`values` as environment variables for a child whose settings classes are `readers`.

    Every name must be a field of one of `readers` (or a variable a library reads itself, such
    as OTEL_SERVICE_NAME), so a misspelled name fails here, loudly, instead of being ignored.
    """
    classes = tuple(readers)
    unknown = [
        name
        for name in values
        if name not in LIBRARY_VARIABLES and not any(cls.reads(name) for cls in classes)
    ]
    if unknown:
        children = ", ".join(cls.__name__ for cls in classes)
        raise UnknownSetting(
            "; ".join(_unknown_message(name, classes) for name in unknown)
            + f" by the child ({children})."
        )
    return {name: _as_text(value) for name, value in values.items()}


def _as_text(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
