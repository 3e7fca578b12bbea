"""Build a Config from a YAML file and dotted `key=value` overrides; one-line errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from trainlab import yamlfile
from trainlab.config.legacy import migrate
from trainlab.config.models import ModelOptions
from trainlab.config.schema import Config
from trainlab.config.tasks import TaskOptions, normalize_task
from trainlab.errors import ConfigError
from trainlab.registry import did_you_mean

DEFAULT_MODEL = "mlp"
#: the sections that are discriminated unions on `name`
UNIONS = {"model": ModelOptions, "task": TaskOptions}


def load_config(path: Path | None = None, overrides: Sequence[str] = ()) -> Config:
    """The validated config: file values, then overrides, then defaults for the rest."""
    raw = read_config_file(path) if path is not None else {}
    return validate(apply_overrides(raw, overrides))


def read_config_file(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found", "check the path")
    try:
        raw = yamlfile.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}", "fix its syntax") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections", "see configs/digits.yaml")
    return raw


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply `a.b=value` overrides (values parsed as YAML: 0.1, [256,128], true)."""
    out = _deep_copy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not key=value", "write e.g. optim.lr=0.01")
        try:
            value = yamlfile.safe_load(text) if text else None
        except yaml.YAMLError:
            value = text
        parts = key.split(".")
        if parts[0] == "task" and isinstance(out.get("task"), str):
            out["task"] = {"name": out["task"]}  # `task=NAME` then `task.KEY=...`
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {key!r}: {part!r} is not a section", "check the key")
            node = child
        if parts in (["model", "name"], ["task", "name"]) and node.get("name") not in (None, value):
            # A new model family or task: options of the old one no longer apply.
            node.clear()
        node[parts[-1]] = value
    return out


def validate(raw: dict[str, Any]) -> Config:
    model = raw.get("model")
    if isinstance(model, dict) and "name" not in model:
        raw = {**raw, "model": {"name": DEFAULT_MODEL, **model}}
    raw = normalize_task(raw)
    if isinstance(raw.get("task"), dict):
        raw = migrate(raw, set(union_member(TaskOptions, raw["task"].get("name")).model_fields))
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(*_explain(e.errors()[0], raw)) from None


def _explain(err: dict[str, Any], raw: dict[str, Any]) -> tuple[str, str]:
    loc = [str(p) for p in err["loc"]]
    if len(loc) >= 2 and loc[0] in UNIONS and loc[1] == _tag(raw, loc[0]):
        loc.pop(1)  # the discriminator tag pydantic inserts
    key = ".".join(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = section_fields(loc[:-1], raw)
        close = difflib.get_close_matches(loc[-1], parent, n=1, cutoff=0.5)
        prefix = ".".join(loc[:-1])
        fix = (
            f"did you mean '{prefix + '.' if prefix else ''}{close[0]}'?"
            if close
            else f"valid keys here: {', '.join(parent)}"
        )
        return f"unknown config key '{key}'", fix
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in err["ctx"]["expected_tags"].split(",")]
        return f"unknown {loc[0]} '{err['ctx']['tag']}'", did_you_mean(str(err["ctx"]["tag"]), tags)
    got = err.get("input")
    return f"invalid value for '{key}': {err['msg']} (got {got!r})", "see `trainlab config --help`"


def section_fields(loc: list[str], raw: dict[str, Any]) -> list[str]:
    """Valid keys of the section at `loc` (for did-you-mean)."""
    model: type[BaseModel] = Config
    for part in loc:
        if model is Config and part in UNIONS:
            model = union_member(UNIONS[part], _tag(raw, part))
            continue
        field = model.model_fields.get(part)
        ann = getattr(field, "annotation", None) if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return list(model.model_fields)


def union_member(union: Any, name: Any) -> type[BaseModel]:
    """The options class of a discriminated union (`model`, `task`) whose `name` is `name` (else Config)."""
    for cls in get_args(get_args(union)[0]):
        if cls.model_fields["name"].default == name:
            return cls
    return Config


def _tag(raw: dict[str, Any], section: str) -> Any:
    value = raw.get(section)
    return value.get("name", DEFAULT_MODEL if section == "model" else None) if isinstance(value, dict) else value


def _deep_copy(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in d.items()}


def config_to_dict(cfg: Config) -> dict[str, Any]:
    """JSON/YAML-safe dict of every resolved value (paths as strings, tuples as lists)."""
    return cfg.model_dump(mode="json")
