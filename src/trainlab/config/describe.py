"""Every option with its default and one-line description (for --help and docs/cli.md)."""

from __future__ import annotations

from typing import get_args

from pydantic import BaseModel

from trainlab.config.load import UNIONS
from trainlab.config.schema import Config


def describe_options() -> list[tuple[str, str, str]]:
    """(dotted key, default, description) for every option, tasks and model families included."""
    rows: list[tuple[str, str, str]] = []
    for name, field in Config.model_fields.items():
        if name in UNIONS:
            for cls in get_args(get_args(UNIONS[name])[0]):
                tag = cls.model_fields["name"].default
                rows.append((f"{name}.name", tag, (cls.__doc__ or "").strip()))
                rows += _walk(cls, f"{name}[{tag}]", skip={"name"})
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            rows += _walk(field.annotation, name)
        else:
            rows.append((name, repr(field.default), field.description or ""))
    return rows


def _walk(model: type[BaseModel], prefix: str, skip: set[str] = frozenset()) -> list[tuple[str, str, str]]:
    rows = []
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            rows += _walk(ann, f"{prefix}.{name}")
        else:
            default = field.get_default(call_default_factory=True)
            rows.append((f"{prefix}.{name}", repr(default), field.description or ""))
    return rows


def options_markdown() -> str:
    """The options table of docs/cli.md (a test keeps that file in step with the schema)."""
    lines = ["| key | default | description |", "|---|---|---|"]
    for key, default, desc in describe_options():
        lines.append(f"| `{key}` | `{default}` | {desc.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
