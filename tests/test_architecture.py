"""The "who may import whom" rules of docs/architecture.md, held against the code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "trainlab"

# module imported → package prefixes it must not load
RULES = {
    "trainlab.engine": ["trainlab.tasks", "trainlab.models", "trainlab.data", "trainlab.diagnose", "trainlab.report",
                        "trainlab.evaluation", "trainlab.api", "trainlab.cli", "trainlab.sample"],
    "trainlab.config": ["torch", "trainlab.data", "trainlab.engine"],
    "trainlab.runs": ["torch", "trainlab.config"],
    "trainlab.data.load": ["torch", "trainlab.models", "trainlab.engine"],
    "trainlab.data.math.reader": ["torch"],
    "trainlab.data.vocab": ["torch"],
    "trainlab.models": ["trainlab.engine", "trainlab.tasks", "trainlab.diagnose"],
    "trainlab.tasks": ["trainlab.api", "trainlab.cli", "trainlab.evaluation", "trainlab.sample", "trainlab.studies"],
    "trainlab.scratch": ["torch"],
    "trainlab.cli": ["torch", "trainlab.tasks", "trainlab.scratch"],
    "trainlab.report.html": ["torch", "trainlab.engine", "trainlab.tasks"],
}


def loaded_modules(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_rules_hold() -> None:
    broken = {}
    for module, forbidden in RULES.items():
        loaded = loaded_modules(module)
        bad = sorted(m for m in loaded for prefix in forbidden if m == prefix or m.startswith(prefix + "."))
        if bad:
            broken[module] = bad
    assert not broken, f"imports that break docs/architecture.md: {broken}"


def task_names() -> set[str]:
    from trainlab.tasks import TASKS

    return set(TASKS.names())


@pytest.mark.parametrize("path", sorted(p for p in SRC.rglob("*.py") if not {"tasks", "config"} & set(p.parts)),
                         ids=lambda p: str(p.relative_to(SRC)))
def test_no_task_name_branches_outside_the_tasks(path: Path) -> None:
    """Outside `tasks/` (and the config schema that declares them) no code compares against a task's name."""
    names = task_names()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare | ast.MatchValue | ast.Dict):
            consts = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant)]
            hits = names & {c for c in consts if isinstance(c, str)}
            assert not hits, f"{path.relative_to(SRC)}:{node.lineno} branches on task name {hits}"
