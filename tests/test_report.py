"""`trainlab report`: the HTML page of runs and a sweep, its content checked against the run directories, and
the page rendered by headless Chromium."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import sqlite3
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image
from tinyruns import train

from trainlab.errors import UserError
from trainlab.report.html import render, write_report
from trainlab.runs import MetricsCSV, read_json


@pytest.fixture(scope="module")
def dirs(tmp_path_factory) -> dict[str, Path]:
    """Two digits runs (one with the diagnosis), a regression run, and a sweep directory whose two trials are
    copies of the digits runs, with the sweep's files (results.csv/md, best.yaml, study.db, plots/)."""
    root = tmp_path_factory.mktemp("report")
    found = {"a": train(root / "runs", "a", "diagnose.enabled=true"),
             "b": train(root / "runs", "b", "optim.lr=0.01", "model.hidden=[16]"),
             "reg": train(root / "runs", "reg", "task=regression", "data.name=diabetes")}
    sweep = root / "sweep-lr"
    trials = [Path(shutil.copytree(found[run], sweep / "runs" / f"trial-{i}")) for i, run in enumerate("ab")]
    rows = sorted(((t.name, lr, read_json(t / "summary.json")["best_val_acc"]) for t, lr in zip(trials, (0.003, 0.01),
                                                                                                strict=True)),
                  key=lambda r: -r[2])
    (sweep / "results.csv").write_text("trial,optim.lr,best_val_acc,status\n"
                                       + "".join(f"{n},{lr},{acc},completed\n" for n, lr, acc in rows))
    (sweep / "results.md").write_text("| trial | optim.lr | best_val_acc |\n")
    shutil.copy(sweep / "runs" / rows[0][0] / "config.yaml", sweep / "best.yaml")
    with sqlite3.connect(sweep / "study.db") as db:
        db.execute("create table trials (id integer, value real)")
    fig = Figure(figsize=(4, 3))
    fig.add_subplot(1, 1, 1).plot([0, 1], [r[2] for r in rows], "o-")
    (sweep / "plots").mkdir()
    fig.savefig(sweep / "plots" / "objective.png")
    return {**found, "sweep": sweep, "trial-0": trials[0], "trial-1": trials[1]}


@pytest.fixture(scope="module")
def html(dirs) -> str:
    """The report of the three runs and the sweep."""
    return render([dirs["a"], dirs["b"], dirs["reg"], dirs["sweep"]])


class Page(HTMLParser):
    """Tables (rows of (text, attributes) cells, by id or class), img sources, links and tags of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, dict[str, str]]]]] = {}
        self.rows: list[dict[str, str]] = []  # attributes of every <tr>
        self.images: list[dict[str, str]] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "table":
            self._table = a.get("id") or a.get("class", "")
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
            self.rows.append(a)
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
            self.tables[self._table][-1].append(("", a))
        elif tag == "img":
            self.images.append(a)

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            _, a = self.tables[self._table][-1][-1]
            self.tables[self._table][-1][-1] = ("".join(self._cell).strip(), a)
            self._cell = None
        elif tag == "table":
            self._table = None


def by_column(table: list[list[tuple[str, dict[str, str]]]]) -> list[dict[str, tuple[str, dict[str, str]]]]:
    header = [text for text, _ in table[0]]
    return [dict(zip(header, row, strict=True)) for row in table[1:]]


def test_every_run_appears_with_its_summary_numbers(dirs, html) -> None:
    page = Page(html)
    rows = {cells["run"][0]: cells for cells in by_column(page.tables["comparison-table"])}
    assert list(rows) == ["a", "b", "reg", "sweep-lr/trial-0", "sweep-lr/trial-1"]
    for label, key in (("a", "a"), ("b", "b"), ("reg", "reg"), ("sweep-lr/trial-0", "trial-0")):
        summary = read_json(dirs[key] / "summary.json")
        metrics = [k for k in summary if k.startswith(("test_", "best_val_")) and isinstance(summary[k], float)]
        assert metrics and ("test_acc" in metrics or "test_rmse" in metrics)
        for k in [*metrics, "num_params", "wall_time_s", "epochs_completed"]:
            text, attrs = rows[label][k]
            assert json.loads(attrs["data-value"]) == summary[k], (label, k)
            assert text == (f"{summary[k]:,}" if isinstance(summary[k], int) else f"{summary[k]:.4g}")
        assert rows[label]["status"][0] == summary["status"] == "completed"
        last = MetricsCSV(dirs[key] / "metrics.csv").read()[-1]
        assert json.loads(rows[label]["last_val_loss"][1]["data-value"]) == last["val_loss"]
    assert rows["reg"]["test_acc"][0] == "" and rows["a"]["task.name"][0] == "classification"
    sections = {a.get("id") for tag, a in page.tags if tag == "section"}
    assert sections == {"run-a", "run-b", "run-reg", "run-sweep-lr-trial-0", "run-sweep-lr-trial-1"}


def test_only_differing_config_keys_are_shown_and_the_differing_cells_marked(dirs, html) -> None:
    table = Page(html).tables["config-table"]
    assert [t for t, _ in table[0]] == ["key", "a", "b", "reg", "sweep-lr/trial-0", "sweep-lr/trial-1"]
    rows = {row[0][0]: row[1:] for row in table[1:]}
    assert {"optim.lr", "model.hidden", "task.name", "data.name"} <= set(rows)
    assert not {"train.epochs", "train.batch_size", "model.name"} & set(rows)  # the same in every run
    marked = {key: [("diff" in a.get("class", "")) for _, a in cells] for key, cells in rows.items()}
    assert marked["optim.lr"] == [False, True, False, False, True]  # b and its copy have 0.01, the others 0.003
    assert marked["task.name"] == [False, False, True, False, False]
    assert [t for t, _ in rows["optim.lr"]] == ["0.003", "0.01", "0.003", "0.003", "0.01"]
    single = render([dirs["a"]])
    assert "One run: nothing to compare." in single and "config-table" not in single


def test_images_are_inlined_per_run_and_per_sweep(dirs, html) -> None:
    page = Page(html)
    assert page.images and all(img["src"].startswith("data:image/png;base64,") for img in page.images)
    assert not [a for tag, a in page.tags if tag in ("link", "script", "iframe")]
    assert "http://" not in html and "https://" not in html
    alts = [img["alt"] for img in page.images]
    for name in ("confusion", "gradflow", "activations"):
        assert f"a: {name}" in alts  # the diagnosis run's figures
    assert not any(a.startswith("reg: confusion") for a in alts)  # regression: no confusion matrix …
    assert "reg: pred vs true" in alts  # … but what the run has
    assert "objective" in alts and "metrics per epoch of every run" in alts
    for img in page.images:
        with Image.open(io.BytesIO(base64.b64decode(img["src"].partition(",")[2]))) as im:
            assert im.format == "PNG" and im.size[0] > 100
    results = by_column(page.tables["sweep-results"])
    assert [r["trial"][0] for r in results] and {r["trial"][0] for r in results} == {"trial-0", "trial-1"}
    links = {a["href"] for tag, a in page.tags if tag == "a"}
    assert {"#run-sweep-lr-trial-0", "#run-sweep-lr-trial-1"} <= links
    assert (dirs["sweep"] / "best.yaml").read_text().splitlines()[2] in html and "study.db (" in html


def test_bad_inputs_are_refused(dirs, tmp_path) -> None:
    with pytest.raises(UserError, match="neither a run directory"):
        render([tmp_path])
    (tmp_path / "runs").mkdir()
    (tmp_path / "results.csv").write_text("trial\n")
    with pytest.raises(UserError, match="hold no run directories"):
        render([tmp_path])
    with pytest.raises(UserError, match="is a directory"):
        write_report([dirs["a"]], tmp_path)


def test_report_through_the_cli(cli, dirs, tmp_path) -> None:
    r = cli("report", str(dirs["a"]), str(dirs["sweep"]), "--out", "out/report.html")
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "out/report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and 'data-run="sweep-lr/trial-1"' in html


def test_chromium_renders_the_table(dirs, tmp_path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing under CI: .ci/run installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium; CI installs it)")
    page = write_report([dirs["a"], dirs["b"], dirs["reg"]], tmp_path / "report.html")
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1800"]
    shot = tmp_path / "shot.png"
    dom = subprocess.run([*flags, f"--screenshot={shot}", "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=180, check=True).stdout
    rows = [a.get("data-run") for tag, a in Page(dom).tags if tag == "tr" and "data-run" in a]
    assert rows == ["a", "b", "reg"]
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.shape[:2] == (1800, 1280)
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 200  # text, tables and figures, not a blank or one-colour page
    assert (pixels.min(axis=2) < 200).mean() > 0.05
    top = pixels[:500]  # the title and the comparison table
    header = np.all(np.abs(top.astype(int) - (0x1F, 0x4E, 0x79)) < 8, axis=2)  # the table header's blue
    assert header.sum() > 2000 and (top.min(axis=2) < 128).mean() > 0.01
