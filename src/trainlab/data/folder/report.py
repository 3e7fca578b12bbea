"""The per-class statistics of a cleaned folder as rich tables (what `trainlab data images` prints)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def stats_tables(stats: dict[str, Any]) -> list[Table]:
    """One row per class (files, kept, rejected, split sizes, median source size, note); rejections by kind."""
    per_class = Table("class", "files", "kept", "rejected", "train", "val", "test", "source WxH", "note",
                      title=f"{stats['kept']} of {stats['files']} files kept")
    for name, c in stats["classes"].items():
        size = "x".join(str(v) for v in c.get("source_size_median", [])) or "–"
        per_class.add_row(name, str(c["files"]), str(c["kept"]), str(c["rejected"]),
                          *(str(c.get(s, 0)) for s in ("train", "val", "test")), size, c["note"])
    splits = stats["splits"]
    per_class.add_row("all", str(stats["files"]), str(stats["kept"]), str(stats["rejected"]),
                      *(str(splits[s]) for s in ("train", "val", "test")), "", "", style="bold")
    tables = [per_class]
    if stats["rejected_by_kind"]:
        kinds = Table("rejected because", "files", title="rejected.csv")
        for kind, n in stats["rejected_by_kind"].items():
            kinds.add_row(kind, str(n))
        tables.append(kinds)
    return tables
