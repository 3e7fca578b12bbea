"""Multiple seeds and the VGG depth study: aggregates, config files, and the commands end to end.

The two CLI runs are module fixtures that several tests read, which keeps this file fast:
`trainlab run --seeds 2` runs through the CLI app in-process, `trainlab study vgg-depth` in a
subprocess (the real command), reusing the runs of the first.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from clitools import run_cli
from typer.testing import CliRunner

from trainlab.cli import app
from trainlab.config import load_config
from trainlab.diagnose import gradflow
from trainlab.diagnose.records import Records
from trainlab.errors import ConfigError
from trainlab.studies import STUDIES, run_study
from trainlab.studies.aggregate import aggregate, curve_bands, epochs_to_fraction, fmt, mean_std
from trainlab.studies.seeds import finished

CONFIGS = Path(__file__).parents[1] / "configs/studies/vgg_depth"


def test_mean_std_and_aggregate_of_summaries():
    assert mean_std([1.0, 3.0]) == {"mean": 2.0, "std": pytest.approx(2**0.5), "values": [1.0, 3.0]}
    runs = [{"test_acc": 0.5, "seed": 0, "status": "completed", "flag": True, "only_here": 1.0},
            {"test_acc": 0.7, "seed": 1, "status": "completed", "flag": False}]
    assert list(aggregate(runs)) == ["test_acc"] and aggregate(runs)["test_acc"]["mean"] == pytest.approx(0.6)
    assert fmt(mean_std([0.5, 0.7])) == "0.6000 ± 0.1414" and fmt(mean_std([2e-14]), ".1e") == "2.0e-14"
    assert fmt(None) == "–"


def test_curve_bands_and_epochs_to_90_percent():
    a = [{"epoch": 1.0, "val_acc": 0.5, "lr": 0.1}, {"epoch": 2.0, "val_acc": 0.85}, {"epoch": 3.0, "val_acc": 0.9}]
    b = [{"epoch": 1.0, "val_acc": 0.75}, {"epoch": 2.0, "val_acc": 0.8}]
    band = curve_bands([a, b])["val_acc"]
    assert band.epochs == [1, 2, 3] and np.allclose(band.mean, [0.625, 0.825, 0.9])
    assert np.allclose(band.std, [0.125 * 2**0.5, 0.025 * 2**0.5, 0.0])
    assert epochs_to_fraction(a) == 2 and epochs_to_fraction(b) == 1  # 90% marks: 0.81 and 0.72
    assert "lr" not in curve_bands([a, b]) and epochs_to_fraction([{"epoch": 1.0}]) is None


@pytest.mark.parametrize("variant", list(STUDIES.get("vgg-depth").variants))
def test_study_config_files_match_the_study(variant):
    study = STUDIES.get("vgg-depth")
    expected = load_config(None, [*study.base, "data.name=fashion-mnist", *study.variants[variant]])
    assert load_config(CONFIGS / f"{variant}.yaml") == expected


def test_seeds_in_the_config_and_on_the_command_line_agree():
    assert load_config(None, ["train.seeds=[0,1]"]).train.seeds == [0, 1]
    with pytest.raises(ConfigError, match="run_seeds"):  # the API trains one seed; it does not drop the list
        import trainlab

        trainlab.run(load_config(None, ["train.seeds=[0,1]"]))


def test_study_rejects_an_unknown_variant(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'vgg08'"):
        run_study(STUDIES.get("vgg-depth"), [0], out=tmp_path, variants=["vgg09"])
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------------------------- the commands end to end
# `trainlab run --seeds 2` trains the study's VGG_08 (in-process, through the CLI app) where the study keeps its
# runs; `trainlab study vgg-depth` (a real subprocess) then reuses them and trains only VGG_38 plain.
STUDY = STUDIES.get("vgg-depth")
TINY = ("data.name=digits", "data.subset=200", "train.epochs=2", "model.num_stages=2", "model.num_filters=4",
        "diagnose.activations_every=1", "diagnose.histogram_every=1")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("study")


@pytest.fixture(scope="module")
def seeded(workdir):
    """(directory of the runs, CLI output) of `trainlab run <the study's vgg08> --seeds 2`."""
    out = workdir / "s/vgg-depth"
    args = [*STUDY.overrides("vgg08", TINY), "--seeds", "2", "--name", "vgg08", "--out", str(out)]
    r = CliRunner().invoke(app, ["run", *args])
    assert r.exit_code == 0, r.output
    return out, r.output


def test_run_with_seeds_writes_siblings_and_an_aggregate(seeded):
    runs, output = seeded
    assert {"vgg08-seed0", "vgg08-seed1", "vgg08-seeds"} <= {p.name for p in runs.iterdir()}
    assert not (runs / "vgg08-seed2").exists()
    summaries = [json.loads((runs / f"vgg08-seed{k}/summary.json").read_text()) for k in (0, 1)]
    assert [s["seed"] for s in summaries] == [0, 1] and [s["model"] for s in summaries] == ["vgg", "vgg"]
    assert summaries[0]["test_loss"] != summaries[1]["test_loss"]  # two seeds, two different nets
    agg = json.loads((runs / "vgg08-seeds/aggregate.json").read_text())
    assert agg["runs"] == ["vgg08-seed0", "vgg08-seed1"] and agg["seeds"] == [0, 1]
    test_acc = agg["metrics"]["test_acc"]
    assert test_acc["values"] == [s["test_acc"] for s in summaries]
    assert test_acc["mean"] == pytest.approx(np.mean(test_acc["values"]))
    assert test_acc["std"] == pytest.approx(np.std(test_acc["values"], ddof=1))
    assert "| test_acc |" in (runs / "vgg08-seeds/aggregate.md").read_text()
    assert (runs / "vgg08-seeds/curves.png").stat().st_size > 1000
    assert "aggregate:" in output
    cfg = load_config(runs / "vgg08-seed1/config.yaml")
    assert cfg.train.seed == 1 and cfg.train.seeds is None  # each sibling is an ordinary one-seed run
    assert finished(runs / "vgg08-seed1", cfg) is not None  # a study reuses it
    assert finished(runs / "vgg08-seed1", load_config(None, ["train.seed=1"])) is None  # not another config


def test_every_run_writes_the_diagnosis_files(seeded):
    runs, output = seeded
    for k in (0, 1):
        run = runs / f"vgg08-seed{k}"
        for name in ("gradflow.png", "gradflow_heatmap.png", "activations.png", "filters.png", "confusion.png"):
            assert (run / "plots" / name).stat().st_size > 1000, name
        grads = Records(run / "gradflow.csv", gradflow.FIELDS, "layer").read()
        assert [(g["epoch"], g["layer"]) for g in grads][:2] == [(1, "entry.conv"), (1, "stage1.reduce.conv1")]
        assert len(grads) == 2 * 6 and grads[-1]["layer"] == "classifier.linear"  # 5 convs + 1 linear, 2 epochs
        acts = Records(run / "activations.csv", ("epoch", "block", "mean", "std", "dead_fraction"), "block").read()
        assert {a["epoch"] for a in acts} == {1, 2} and acts[0]["block"] == "entry"
        summary = json.loads((run / "summary.json").read_text())
        assert isinstance(summary["doctor"], list) and summary["grad_first_last_ratio"] > 0
        assert summary["grad_first_mean_abs"] == pytest.approx(
            next(g["mean_abs_grad"] for g in grads if g["epoch"] == 2), rel=1e-4)
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        events = EventAccumulator(str(run / "tb"), size_guidance={"histograms": 0}).Reload()
        assert {"weights/entry.conv", "grads/classifier.linear"} <= set(events.Tags()["histograms"])
    assert output.count("doctor:") >= 2  # printed at the end of each run


@pytest.fixture(scope="module")
def study(workdir, seeded):
    r = run_cli("study", "vgg-depth", "--variants", "vgg08,vgg38_plain", "--seeds", "2", "--out", "s", *TINY,
                cwd=workdir)
    assert r.returncode == 0, r.stderr
    return workdir / "s/vgg-depth", r


def test_study_reuses_completed_runs(study, seeded):
    _, r = study
    assert "run vgg38_plain-seed0:" in r.stdout and "run vgg38_plain-seed1:" in r.stdout
    assert "run vgg08-seed" not in r.stdout  # trained by `trainlab run --seeds 2` above, with the same config


def test_study_command_writes_its_table(study):
    path, r = study
    summary = (path / "summary.md").read_text()
    header = ("| variant | best val acc | test acc | final train acc | epochs to 90% of best val acc | "
              "first-layer mean abs grad | first/last grad ratio | train time s | doctor |")
    assert header in summary and "data: digits; seeds: 0, 1" in summary
    rows = {row["variant"]: row for row in json.loads((path / "study.json").read_text())["rows"]}
    assert list(rows) == ["vgg08", "vgg38_plain"] and all(row["seeds"] == 2 for row in rows.values())
    for variant, row in rows.items():
        runs = [json.loads((path / f"{variant}-seed{k}/summary.json").read_text()) for k in (0, 1)]
        stat = row["stats"]["test_acc"]
        assert stat["values"] == [s["test_acc"] for s in runs]
        line = next(x for x in summary.splitlines() if x.startswith(f"| {variant} |"))
        assert fmt(stat) in line and " ± " in line  # mean ± std over the two seeds
        ratio = row["stats"]["grad_first_last_ratio"]["values"]
        assert ratio == pytest.approx([s["grad_first_last_ratio"] for s in runs])
    # the science in miniature: the deep plain net's first layer gets (almost) no gradient, the shallow one's does
    deep, shallow = (rows[v]["stats"]["grad_first_mean_abs"]["mean"] for v in ("vgg38_plain", "vgg08"))
    assert deep < 1e-3 * shallow
    assert "vanishing_gradients" in rows["vgg38_plain"]["doctor"]
    assert "vanishing_gradients" not in rows["vgg08"]["doctor"]
    assert "vgg38_plain" in r.stdout and "summary.md" in r.stdout


def test_study_command_writes_its_figures(study):
    path, _ = study
    for name in ("curves.png", "gradflow.png", "vgg08-seeds/aggregate.json", "vgg38_plain-seeds/curves.png",
                 "vgg38_plain-seed1/plots/gradflow.png"):
        assert (path / name).stat().st_size > 1000, name
    summary = (path / "summary.md").read_text()
    assert "![curves](curves.png)" in summary and "![gradient flow](gradflow.png)" in summary


# ------------------------------------------------------------------------------------- the MVA exercises
@pytest.mark.parametrize("variant", list(STUDIES.get("mva").variants))
def test_mva_config_files_match_the_study(variant):
    study = STUDIES.get("mva")
    expected = load_config(None, [*study.overrides(variant), *(["data.name=fashion-mnist"] if variant ==
                                                                "ex2_convnet" else [])])
    assert load_config(CONFIGS.parent / "mva" / f"{variant}.yaml") == expected


def test_mva_study_sets_each_exercise_beside_the_report(tmp_path):
    """Every exercise on a tiny budget: the reference table holds each variant's own test figures, and the
    summary links the task figures (decision boundaries of the 2-D classifiers, the Gaussian head's bands)."""
    study = STUDIES.get("mva")
    result = run_study(study, [0], out=tmp_path, overrides=["data.subset=150", "train.epochs=1",
                                                                         "diagnose.enabled=false"])
    assert result.status == "completed" and [r["variant"] for r in result.rows] == list(study.variants)
    cited = {(r["variant"], ref["metric"]): ref for r in result.rows for ref in r["references"]}
    assert set(cited) == {(ref.variant, ref.metric) for ref in study.references}
    summary = (tmp_path / "mva/summary.md").read_text()
    for (variant, metric), ref in cited.items():
        ours = json.loads((tmp_path / f"mva/{variant}-seed0/summary.json").read_text())[metric]
        assert ref["ours"]["values"] == [ours]
        assert f"| {variant} | " in summary and f"| {metric} | {fmt(ref['ours'])} | {ref['reference']:.4f} |" in summary
    tasks = {r["variant"]: load_config(tmp_path / f"mva/{r['variant']}-seed0/config.yaml").task.name
             for r in result.rows}
    assert tasks["ex1_bce"] == "binary" and tasks["ex3_multitask"] == "multitask"
    assert tasks["ex4_gaussian_nll"] == "gaussian_nll"
    for figure in ("ex1_linear-seed0/plots/decision_boundary.png", "ex4_gaussian_nll-seed0/plots/bands.png",
                   "ex3_multitask-seed0/plots/confusion_colour.png"):
        assert f"]({figure})" in summary and (tmp_path / "mva" / figure).stat().st_size > 1000
