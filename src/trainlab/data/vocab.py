"""Character vocabulary with PAD/UNK/BOS/EOS specials, saved as JSON in the run dir."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainlab.errors import DataError

PAD, UNK, BOS, EOS = 0, 1, 2, 3
SPECIALS: tuple[str, ...] = ("<pad>", "<unk>", "<bos>", "<eos>")
UNK_CHAR = "\N{REPLACEMENT CHARACTER}"  # what an unknown id decodes to
FORMAT = "trainlab-char-vocab"


@dataclass(frozen=True)
class CharVocab:
    """Ids 0..3 are the specials; characters follow in code-point order."""

    chars: tuple[str, ...]
    lowercase: bool = False

    @classmethod
    def build(cls, texts: Iterable[str], lowercase: bool = False) -> CharVocab:
        """Vocabulary of every character in ``texts`` (pass train text only)."""
        seen: set[str] = set()
        for text in texts:
            seen.update(text.lower() if lowercase else text)
        return cls(tuple(sorted(seen)), lowercase)

    def __len__(self) -> int:
        return len(SPECIALS) + len(self.chars)

    @functools.cached_property
    def _ids(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars, start=len(SPECIALS))}

    @functools.cached_property
    def _codepoints(self) -> np.ndarray:
        return np.array([ord(c) for c in self.chars], dtype=np.uint32)

    def normalize(self, text: str) -> str:
        return text.lower() if self.lowercase else text

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
        ids = [self._ids.get(c, UNK) for c in self.normalize(text)]
        return [BOS] * bos + ids + [EOS] * eos

    def encode_codepoints(self, codepoints: np.ndarray) -> np.ndarray:
        """Vectorised lookup: uint32 code points (already normalised) → int64 ids."""
        if not len(self.chars):
            return np.full(codepoints.shape, UNK, np.int64)
        pos = np.minimum(np.searchsorted(self._codepoints, codepoints), len(self.chars) - 1)
        hit = self._codepoints[pos] == codepoints
        return np.where(hit, pos + len(SPECIALS), UNK).astype(np.int64)

    def decode(self, ids: Iterable[int]) -> str:
        """Text up to the first EOS; PAD and BOS are dropped, UNK shows as U+FFFD."""
        out = []
        for i in map(int, ids):
            if i == EOS:
                break
            if i == UNK or i >= len(self):
                out.append(UNK_CHAR)
            elif i >= len(SPECIALS):
                out.append(self.chars[i - len(SPECIALS)])
        return "".join(out)

    def save(self, path: str | Path) -> None:
        payload = {
            "format": FORMAT, "specials": list(SPECIALS), "lowercase": self.lowercase,
            "chars": list(self.chars),
        }
        Path(path).write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> CharVocab:
        try:
            payload = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read vocabulary {path}: {exc}", "check the run dir") from exc
        if (
            not isinstance(payload, dict) or payload.get("format") != FORMAT
            or payload.get("specials") != list(SPECIALS)
        ):
            raise DataError(f"{path} is not a trainlab character vocabulary", "check the run dir")
        return cls(tuple(payload["chars"]), bool(payload["lowercase"]))
