"""The search's random streams: every random draw of a stage comes from its own generator, seeded by
(seed, round, stage, iteration), so a decision never depends on how many draws another stage made."""

from __future__ import annotations

import numpy as np

STAGES = {"sample": 1, "initial": 2, "anneal": 3, "select": 4, "seed": 5, "partition": 6, "train": 7, "rigid": 8}


def stage_rng(seed: int, round_: int, stage: str, iteration: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, round_, STAGES[stage], iteration])


__all__ = ["STAGES", "stage_rng"]
