"""The model's ranking of the space groups for a composition, restricted to the groups whose Wyckoff
positions can hold the composition's cell (the sampler's own check)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sccop.composition import Composition
from sccop.prior.model import load_model, renormalised


@dataclass(frozen=True)
class GroupVote:
    group: int
    symbol: str
    probability: float  # renormalised over the groups that fit the cell
    model_probability: float  # the model's own, over all 230


def predict_groups(composition: Composition, formula_units: list[int], top: int = 10) -> list[GroupVote]:
    """The `top` most probable groups among those the cells of `formula_units` fit."""
    from sccop.config import SamplerConfig
    from sccop.sampling.sampler import Sampler

    sampler = Sampler(composition, formula_units, SamplerConfig())  # NoWyckoffCombinationError when none fits
    groups = [g.number for g, _ in sampler.options]
    symbols = {g.number: g.symbol for g, _ in sampler.options}
    full = load_model().probabilities({el: float(n) for el, n in composition.counts})
    share = renormalised(full, groups)
    order = np.argsort(-share, kind="stable")[:top]
    return [GroupVote(groups[k], symbols[groups[k]], float(share[k]), float(full[groups[k] - 1])) for k in order]


__all__ = ["GroupVote", "predict_groups"]
