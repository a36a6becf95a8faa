"""Training the search's network on every label so far (warm start from the last ensemble), and the
ensembles kept in DIR/models (rR_iI.pt: tensors and numbers only, written whole then renamed, and
loaded with weights_only so that loading one runs no code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sccop.config import RunConfig
from sccop.loop.state import SearchState


def train(state: SearchState, config: RunConfig, rng: np.random.Generator, progress: str | None = None):
    """(Ensemble, TrainReport) trained on the state's labels, on the asymmetric-unit graphs of the
    structures they label, and on the structures of relaxation paths kept so far (`learn_frames`)."""
    from sccop.graph import au_graph
    from sccop.model.train import train_ensemble

    sources, energies = state.training_set()
    graphs = [au_graph(state.structures[u], config.graph) for u in sources]
    frames = sorted(state.frames)
    if frames:
        graphs += [state.frames[k][0] for k in frames]
        energies = np.concatenate([energies, [state.frames[k][1] for k in frames]])
    return train_ensemble(graphs, energies, config.train, rng, previous=state.ensemble, model=config.model,
                          graph=config.graph, progress=progress)


def save_ensemble(path: Path, ensemble, report) -> None:
    import torch

    partial = path.with_suffix(".part")
    torch.save({"members": [m.state_dict() for m in ensemble.members], "mean": float(ensemble.mean),
                "std": float(ensemble.std), "report": dict(report.__dict__)}, partial)
    partial.replace(path)


def load_ensemble(path: Path, config: RunConfig):
    import torch

    from sccop.errors import SccopInputError
    from sccop.model.cgcnn import CGCNN
    from sccop.model.train import Ensemble

    try:  # weights only: a crafted file in the folder cannot run code
        saved = torch.load(path, weights_only=True)
        members = []
        for state in saved["members"]:
            net = CGCNN(config.model, config.graph)
            net.load_state_dict(state)
            members.append(net)
        mean, std = float(saved["mean"]), float(saved["std"])
    except Exception as exc:  # noqa: BLE001 - a truncated, foreign or crafted file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SccopInputError(f"{path} cannot be read as a trained ensemble ({first[:160]}); delete it and run again: "
                              "its iteration is trained again") from None
    return Ensemble(members=members, mean=mean, std=std, graph=config.graph, threads=config.train.threads)


__all__ = ["train", "save_ensemble", "load_ensemble"]
