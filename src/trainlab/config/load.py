"""Build a Config from a YAML file and dotted `key=value` overrides; one-line errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from trainlab.config.schema import Config
from trainlab.errors import ConfigError
from trainlab.registry import did_you_mean

DEFAULT_MODEL = "mlp"


def load_config(path: Path | None = None, overrides: Sequence[str] = ()) -> Config:
    """The validated config: file values, then overrides, then defaults for the rest."""
    raw = read_config_file(path) if path is not None else {}
    return validate(apply_overrides(raw, overrides))


def read_config_file(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found", "check the path")
    try:
        raw = yaml.safe_load(path.read_text())
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
            value = yaml.safe_load(text) if text else None
        except yaml.YAMLError:
            value = text
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {key!r}: {part!r} is not a section", "check the key")
            node = child
        if parts == ["model", "name"] and node.get("name") not in (None, value):
            # A new model family: options of the old one no longer apply.
            node.clear()
        node[parts[-1]] = value
    return out


def validate(raw: dict[str, Any]) -> Config:
    model = raw.get("model")
    if isinstance(model, dict) and "name" not in model:
        raw = {**raw, "model": {"name": DEFAULT_MODEL, **model}}
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(*_explain(e.errors()[0], raw)) from None


def _explain(err: dict[str, Any], raw: dict[str, Any]) -> tuple[str, str]:
    loc = [str(p) for p in err["loc"]]
    if len(loc) >= 2 and loc[0] == "model" and loc[1] == raw.get("model", {}).get("name", DEFAULT_MODEL):
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
        return f"unknown model '{err['ctx']['tag']}'", did_you_mean(str(err["ctx"]["tag"]), tags)
    got = err.get("input")
    return f"invalid value for '{key}': {err['msg']} (got {got!r})", "see `trainlab config --help`"


def section_fields(loc: list[str], raw: dict[str, Any]) -> list[str]:
    """Valid keys of the section at `loc` (for did-you-mean)."""
    model: type[BaseModel] = Config
    for part in loc:
        if part == "model":
            model = model_options_class(raw.get("model", {}).get("name", DEFAULT_MODEL))
            continue
        field = model.model_fields.get(part)
        ann = getattr(field, "annotation", None) if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return list(model.model_fields)


def model_options_class(name: str) -> type[BaseModel]:
    from typing import get_args

    from trainlab.config.models import ModelOptions

    for cls in get_args(get_args(ModelOptions)[0]):
        if cls.model_fields["name"].default == name:
            return cls
    return Config


def _deep_copy(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in d.items()}


def config_to_dict(cfg: Config) -> dict[str, Any]:
    """JSON/YAML-safe dict of every resolved value (paths as strings, tuples as lists)."""
    return cfg.model_dump(mode="json")
