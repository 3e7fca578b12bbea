"""Ids every character vocabulary reserves (trainlab.data.math uses the same four)."""

PAD, UNK, BOS, EOS = 0, 1, 2, 3
