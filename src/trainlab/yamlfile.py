"""YAML read with YAML 1.2's booleans: only true/false are booleans, so `yes`, `no`, `on`, `off`, `y`, `n`
stay strings (a CSV column named `yes`, a class named `no`). PyYAML follows YAML 1.1, which reads them as
booleans."""

from __future__ import annotations

import re
from typing import Any

import yaml

BOOL_TAG = "tag:yaml.org,2002:bool"


class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def safe_load(text: str) -> Any:
    """`yaml.safe_load` with YAML 1.2 booleans."""
    return yaml.load(text, Loader)
