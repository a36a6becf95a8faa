"""The shipped composition -> space-group model: a small multilayer perceptron whose weights ship in
the package (group_model.npz, numbers only: loaded without pickle, evaluated with NumPy), trained by
scripts/train_group_prior.py on Materials Project data (CC BY 4.0; see `CREDIT`)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from sccop.errors import SccopInputError
from sccop.prior.features import FEATURE_NAMES, composition_features

MODEL_FILE = Path(__file__).with_name("group_model.npz")
CREDIT = ("Trained on (formula, space group) pairs of Materials Project crystals within 0.1 eV/atom of the hull "
          "(Materials Project data, CC BY 4.0: A. Jain et al., APL Materials 1, 011002 (2013)), with every "
          "benchmark composition removed.")
LAYERS = 3


class GroupModel:
    """P(space group | composition) over the 230 groups (index g-1 for group g)."""

    def __init__(self, arrays: dict[str, np.ndarray], info: dict):
        self.mean = arrays["mean"].astype(float)
        self.scale = arrays["scale"].astype(float)
        self.weights = [(arrays[f"w{k}"].astype(np.float32), arrays[f"b{k}"].astype(np.float32)) for k in range(LAYERS)]
        self.info = info
        if self.mean.shape != (len(FEATURE_NAMES),) or self.weights[-1][0].shape[1] != 230:
            raise SccopInputError("the space-group model does not fit this version's features; retrain it with "
                                  "scripts/train_group_prior.py")

    def probabilities_of(self, features: np.ndarray) -> np.ndarray:
        """[n, 230] probabilities of feature rows."""
        x = ((np.atleast_2d(features) - self.mean) / self.scale).astype(np.float32)
        for k, (w, b) in enumerate(self.weights):
            x = x @ w + b
            if k < LAYERS - 1:
                x = x / (1.0 + np.exp(-x))  # SiLU
        x = x - x.max(axis=1, keepdims=True)
        p = np.exp(x.astype(float))
        return p / p.sum(axis=1, keepdims=True)

    def probabilities(self, counts: dict[str, float]) -> np.ndarray:
        """[230] probabilities of one composition {element: amount}."""
        return self.probabilities_of(composition_features(counts))[0]

    def probabilities_over(self, counts: dict[str, float], groups: list[int]) -> np.ndarray:
        """The probabilities of `groups` (numbers 1-230) for one composition, renormalised to sum to 1."""
        return renormalised(self.probabilities(counts), groups)

    def save(self, path: Path) -> None:
        arrays = {"mean": self.mean, "scale": self.scale}
        for k, (w, b) in enumerate(self.weights):
            arrays[f"w{k}"], arrays[f"b{k}"] = w.astype(np.float16), b.astype(np.float32)
        arrays["info"] = np.array(json.dumps(self.info))
        tmp = Path(path).with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        tmp.replace(path)


def renormalised(probabilities: np.ndarray, groups: list[int]) -> np.ndarray:
    """The entries of `groups` (numbers 1-230) of a [230] probability vector, scaled to sum to 1."""
    chosen = probabilities[np.asarray(groups, dtype=int) - 1].astype(float)
    return chosen / chosen.sum()


@lru_cache(maxsize=4)
def load_model(path: str | Path = MODEL_FILE) -> GroupModel:
    """The model in `path` (the shipped one by default); SccopInputError when it is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise SccopInputError(f"cannot read the space-group model {path} ({exc}); reinstall sccop or retrain it "
                              "with scripts/train_group_prior.py") from None
    return GroupModel(arrays, json.loads(str(arrays.pop("info", "{}"))))


__all__ = ["GroupModel", "load_model", "renormalised", "MODEL_FILE", "CREDIT"]
