"""docs/configuration.md, generated from every settings class.

`python -m soundcheck.configuration_page` rewrites it; a unit test fails when it is stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import SecretStr

from instrumentation.settings_contract import StrictSettings, settings_classes
from soundcheck import REPO_ROOT

CONFIGURATION_PAGE = REPO_ROOT / "docs" / "configuration.md"
PAGE_HEADER = """# Configuration: every process's settings

Generated from the settings classes (`python -m soundcheck.configuration_page` rewrites this
page; a unit test fails when it is stale). Each process reads only its own class, from environment
variables named `<prefix><FIELD>`; a variable that carries a known prefix but that no class reads
stops the process at start, naming it. The stack builds each child's environment with
`child_environment` (`instrumentation/settings_contract.py`), which refuses a name the child does
not read. Traces follow the standard OpenTelemetry variables (`OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_TRACES_SAMPLER` /
`OTEL_TRACES_SAMPLER_ARG`), read by the OpenTelemetry SDK itself: see
[instrumentation.md](instrumentation.md).

| process | class | prefix |
| --- | --- | --- |
"""


def configuration_page() -> str:
    """docs/configuration.md: which class each process reads, then each class's variables."""
    classes = settings_classes()
    summary = [f"| {_summary(cls)} | `{cls.__name__}` | `{cls.env_prefix()}` |" for cls in classes]
    return PAGE_HEADER + "\n".join(summary) + "\n\n" + settings_table(classes)


def settings_table(classes: Iterable[type[StrictSettings]]) -> str:
    """One markdown table per settings class: variable, default, meaning."""
    lines: list[str] = []
    for cls in classes:
        lines += [f"## `{cls.__name__}` (`{cls.__module__}`)", ""]
        lines += ["| variable | default | meaning |", "| --- | --- | --- |"]
        for field, env in cls.env_names().items():
            info = cls.model_fields[field]
            default = info.get_default(call_default_factory=True)
            shown = "" if info.is_required() else _default_text(default)
            lines.append(f"| `{env}` | {shown} | {info.description or ''} |")
        for prefix in cls.dynamic_env_prefixes:
            variable = f"{cls.env_prefix()}{prefix}<NAME>"
            lines.append(f"| `{variable}` |  | one per name, read into the field above |")
        lines.append("")
    return "\n".join(lines)


def _summary(cls: type[StrictSettings]) -> str:
    return (cls.__doc__ or "").strip().splitlines()[0]


def _default_text(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, SecretStr):
        return "(secret)"
    text = str(value).replace(str(REPO_ROOT), "<repo>").replace(str(Path.home()), "~")
    return f"`{text}`"


if __name__ == "__main__":
    CONFIGURATION_PAGE.write_text(configuration_page())
