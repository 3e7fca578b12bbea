"""Options of the `vgg` model family (pure pydantic, no torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trainlab.config.base import Section

BlockType = Literal["plain", "empty", "bn", "residual", "bn_residual", "dense"]


class VGGOptions(Section):
    """VGG of constant width: entry conv, stages of processing blocks + a reduction block, GAP, linear."""

    name: Literal["vgg"] = "vgg"
    num_filters: int = Field(default=32, gt=0, description="channels of every conv (width stays constant)")
    num_stages: int = Field(default=3, gt=0, description="stages, each ending in a 2x2 average-pool reduction")
    blocks_per_stage: int = Field(
        default=0, ge=0, description="processing blocks per stage (0 = VGG_08, 5 = VGG_38 with 3 stages)"
    )
    block_type: BlockType = Field(
        default="plain", description="plain, empty (identity), bn, residual, bn_residual or dense blocks"
    )
    growth_rate: int = Field(default=16, gt=0, description="channels each dense block adds (block_type=dense)")
    leaky_slope: float = Field(default=0.01, ge=0, lt=1, description="negative slope of the leaky ReLUs")
    deep_supervision: bool = Field(default=False, description="auxiliary classifier after each stage but the last")
    aux_weight: float = Field(default=0.3, ge=0, description="weight of the summed auxiliary losses")
