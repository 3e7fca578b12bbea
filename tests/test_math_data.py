"""DeepMind Mathematics data: generation, layout, reading, splits, vocabulary, batching, CLI."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from trainlab.data.math.reader import Example, read_math_dir
from trainlab.data.vocab import BOS, EOS, PAD, UNK, CharVocab
from trainlab.errors import DataError, UserError
from trainlab.tasks.seq2seq.batching import bucket_order, encode_examples, encode_padded

MODULES = ["numbers__gcd", "numbers__place_value", "numbers__round_number"]
CLI = [sys.executable, "-m", "trainlab.data.math.cli", "math"]


def _write(path: Path, pairs: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{q}\n{a}\n" for q, a in pairs), encoding="utf-8")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same request made through the CLI (1 worker) and the library (2 workers)."""
    pytest.importorskip("mathematics_dataset", reason="needs the [math] extra")
    from trainlab.data.math.generation import generate

    root = tmp_path_factory.mktemp("math")
    args = ["--modules", ",".join(MODULES), "--per-module", "12", "--difficulty", "mixed",
            "--seed", "7", "--interpolate-per-module", "3"]
    done = subprocess.run([*CLI, *args, "--out", str(root / "cli"), "--workers", "1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "examples/s" in done.stdout and "wrote" in done.stdout
    result = generate(MODULES, 12, "mixed", root / "lib", seed=7, workers=2,
                      interpolate_per_module=3)
    assert result.workers == 2 and result.generated == 3 * 12 + 3 * 3 + 2 * 3
    return root / "cli", root / "lib"


def test_layout_and_counts(generated: tuple[Path, Path]) -> None:
    cli_dir, _ = generated
    files = sorted(str(p.relative_to(cli_dir)) for p in cli_dir.rglob("*.txt"))
    expected = [f"{d}/{m}.txt" for d in ("interpolate", "train-easy", "train-hard", "train-medium")
                for m in MODULES]
    expected += ["extrapolate/numbers__place_value_big.txt",
                 "extrapolate/numbers__round_number_big.txt"]
    assert files == sorted(expected)
    lines = (cli_dir / "train-easy" / "numbers__gcd.txt").read_text().splitlines()
    assert len(lines) == 2 * 4  # mixed shares 12 between three difficulties
    assert all(q.endswith(("?", ".")) and a.strip() for q, a in zip(lines[::2], lines[1::2], strict=True))


def test_same_seed_same_files_for_any_worker_count(generated: tuple[Path, Path]) -> None:
    cli_dir, lib_dir = generated
    for path in cli_dir.rglob("*.txt"):
        assert filecmp.cmp(path, lib_dir / path.relative_to(cli_dir), shallow=False), path


def test_finished_files_are_reused(generated: tuple[Path, Path]) -> None:
    from trainlab.data.math.generation import generate

    _, lib_dir = generated
    again = generate(MODULES, 12, "mixed", lib_dir, seed=7, interpolate_per_module=3)
    assert again.generated == 0 and all(f.cached for f in again.files)


def test_read_back_generated(generated: tuple[Path, Path]) -> None:
    splits = read_math_dir(generated[0], MODULES, "mixed", seed=1)
    assert sum(len(splits[s]) for s in ("train", "val", "test")) == 36
    assert len(splits["interpolate"]) == 9
    assert {e.module for e in splits["extrapolate"]} == {
        "numbers__place_value_big", "numbers__round_number_big"}


def test_sampling_is_reproducible_within_a_process() -> None:
    pytest.importorskip("mathematics_dataset", reason="needs the [math] extra")
    from trainlab.data.math.worker import sample_chunk

    task = ("train-easy", "numbers__gcd_composed", 0, 4, 3)  # composed: entity order matters
    first = sample_chunk(task)
    sample_chunk(("train-hard", "numbers__lcm_composed", 0, 4, 3))
    assert sample_chunk(task) == first
    assert sample_chunk(("train-easy", "numbers__gcd_composed", 0, 4, 4)) != first


def test_compat_polynomial_modules_generate() -> None:
    pytest.importorskip("mathematics_dataset", reason="needs the [math] extra")
    from trainlab.data.math.worker import sample_chunk

    for module in ("polynomials__expand", "algebra__linear_1d_composed"):  # itemset, np.object
        pairs = sample_chunk(("train-easy", module, 0, 2, 0))
        assert len(pairs) == 2 and all(q and a for q, a in pairs)


def test_integer_fast_paths_do_not_change_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mathematics_dataset", reason="needs the [math] extra")
    import importlib

    import sympy

    from trainlab.data.math import speedups
    from trainlab.data.math.worker import sample_chunk

    tasks = [("train-hard", m, 0, 8, 2) for m in ("numbers__gcd", "numbers__lcm", "numbers__is_prime")]
    fast = [sample_chunk(t) for t in tasks]
    for name in speedups.PATCHED_MODULES:
        monkeypatch.setattr(importlib.import_module(name), "sympy", sympy)
    assert [sample_chunk(t) for t in tasks] == fast


def test_bad_requests_raise_user_errors() -> None:
    pytest.importorskip("mathematics_dataset", reason="needs the [math] extra")
    from trainlab.data.math.generation import plan

    with pytest.raises(UserError, match="numbers__gcd"):
        plan(["numbers__gdc"], 10, "easy", 1)
    with pytest.raises(UserError, match="difficulty"):
        plan(MODULES, 10, "extreme", 1)
    with pytest.raises(UserError, match="counts"):
        plan(MODULES, 0, "easy", 1)


def test_cli_unknown_module_exits_2(tmp_path: Path) -> None:
    pytest.importorskip("mathematics_dataset", reason="needs the [math] extra")
    done = subprocess.run([*CLI, "--modules", "numbers__gdc", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown module 'numbers__gdc'")
    assert "did you mean numbers__gcd" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def released(tmp_path: Path) -> Path:
    """A tiny directory in the released layout: 50 examples per module and difficulty."""
    for d in ("train-easy", "train-medium", "train-hard"):
        for m in ("arithmetic__add_or_sub", "numbers__gcd"):
            _write(tmp_path / d / f"{m}.txt", [(f"{d} {m} {i}?", str(i)) for i in range(50)])
    _write(tmp_path / "interpolate" / "numbers__gcd.txt", [("What is 1?", "1")] * 5)
    _write(tmp_path / "extrapolate" / "arithmetic__add_or_sub_big.txt", [("Big?", "2")] * 3)
    _write(tmp_path / "extrapolate" / "arithmetic__add_sub_multiple_longer.txt", [("x", "y")])
    return tmp_path


def test_read_splits_sizes_and_determinism(released: Path) -> None:
    splits = read_math_dir(released, difficulty="mixed", seed=0)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [240, 30, 30]
    assert len(splits["interpolate"]) == 5
    assert [e.module for e in splits["extrapolate"]] == ["arithmetic__add_or_sub_big"] * 3
    assert read_math_dir(released, difficulty="mixed", seed=0) == splits
    other = read_math_dir(released, difficulty="mixed", seed=1)
    assert other["train"] != splits["train"]
    everything = sorted(e for s in ("train", "val", "test") for e in splits[s])
    assert everything == sorted(e for s in ("train", "val", "test") for e in other[s])
    easy = read_math_dir(released, ["numbers__gcd"], "easy")
    assert len(easy["train"]) == 40 and all(e.module == "numbers__gcd" for e in easy["train"])


def test_read_errors(released: Path) -> None:
    with pytest.raises(DataError, match="missing"):
        read_math_dir(released, ["numbers__lcm"], "easy")
    (released / "train-easy" / "numbers__gcd.txt").write_text("only a question\n")
    with pytest.raises(DataError, match="odd number of lines"):
        read_math_dir(released, ["numbers__gcd"], "easy")
    with pytest.raises(UserError, match="difficulty"):
        read_math_dir(released, difficulty="extreme")


def test_vocab_round_trip_and_save_load(tmp_path: Path) -> None:
    vocab = CharVocab.build(["What is 12 + 3?", "15"])
    assert (PAD, UNK, BOS, EOS) == (0, 1, 2, 3) and len(vocab) == 4 + len(set("What is 12 + 3?5"))
    ids = vocab.encode("What is 3 + 12?", bos=True, eos=True)
    assert ids[0] == BOS and ids[-1] == EOS and min(ids[1:-1]) >= 4
    assert vocab.decode(ids) == "What is 3 + 12?"
    assert vocab.encode("Z")[0] == UNK and vocab.decode(vocab.encode("aZ")) == "a\ufffd"
    vocab.save(tmp_path / "vocab.json")
    assert CharVocab.load(tmp_path / "vocab.json") == vocab
    lower = CharVocab.build(["ABC"], lowercase=True)
    assert lower.chars == ("a", "b", "c") and lower.decode(lower.encode("CaB")) == "cab"
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(DataError):
        CharVocab.load(tmp_path / "bad.json")


def test_encode_padded_matches_encode() -> None:
    vocab = CharVocab.build(["abc", "cab!"])
    texts = ["abc", "", "ca?b", "a"]
    ids, lengths = encode_padded(texts, vocab, bos=True, eos=True)
    assert ids.dtype == np.int64 and ids.shape == (4, 6) and lengths.tolist() == [5, 2, 6, 3]
    for row, text, n in zip(ids, texts, lengths, strict=True):
        assert row[:n].tolist() == vocab.encode(text, bos=True, eos=True)
        assert (row[n:] == PAD).all()


def test_bucketed_batches_cover_every_example_once_with_close_lengths() -> None:
    rng = np.random.default_rng(0)
    examples = [Example("m", "x" * int(n), "y" * int(rng.integers(1, 6)))
                for n in rng.integers(5, 160, size=1003)]
    data = encode_examples(examples, CharVocab.build(["xy"]))
    assert data.src.dtype == torch.int64 and len(data) == 1003
    batches = list(data.batches(batch_size=16, seed=0, epoch=0))
    seen = torch.cat([b.src_len for b in batches])
    assert len(seen) == 1003 and sorted(seen.tolist()) == sorted(data.src_len.tolist())
    order = bucket_order((data.tgt_len.numpy(), data.src_len.numpy()), 16,
                         np.random.default_rng([0, 0]))
    assert torch.cat(order).sort().values.tolist() == list(range(1003))
    spreads = [int(b.src_len.max() - b.src_len.min()) for b in batches]
    assert np.median(spreads) <= 8  # random batches of 16 would spread by ~140
    for b in batches:
        assert b.src.shape[1] == int(b.src_len.max()) and b.tgt.shape[1] == int(b.tgt_len.max())
    again = [b.src_len for b in data.batches(16, seed=0, epoch=0)]
    assert all(torch.equal(a, b.src_len) for a, b in zip(again, batches, strict=True))
    next_epoch = [b.src_len for b in data.batches(16, seed=0, epoch=1)]
    assert any(not torch.equal(a, b.src_len) for a, b in zip(next_epoch, batches, strict=False))
