"""Training an ensemble of CGCNNs on backend energies during the run.

Per round: drop non-finite targets and those above mean + 3 sigma, normalise the rest, then train each
member with Adam on its own random train/validation split, keeping the weights of its best validation
epoch (early stopping: `patience` epochs without a better validation loss, at most `epochs`). Members
start from the previous round's weights when given (warm start) and from fresh random weights
otherwise. Nothing depends on the clock unless `max_seconds` is set (a cap shared among the members,
logged when it stops a member early), so the same seed and labels give the same ensemble on a busy
machine too.
"""

from __future__ import annotations

import copy
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from sccop.config import GraphConfig, ModelConfig, TrainConfig
from sccop.graph.crystal_graph import CrystalGraph, batch_graphs
from sccop.model.cgcnn import CGCNN, GraphTensors, to_tensors

log = logging.getLogger(__name__)


@contextmanager
def torch_threads(n: int):
    """Run the block with `n` torch intra-op threads (0: leave them), then restore the previous number."""
    old = torch.get_num_threads()
    if n <= 0 or n == old:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@dataclass
class Ensemble:
    """Trained members and the target normalisation (energies in eV/atom)."""

    members: list[CGCNN]
    mean: float
    std: float
    graph: GraphConfig = field(default_factory=GraphConfig)
    threads: int = 0

    def _batches(self, graphs: list[CrystalGraph], size: int = 256):
        for start in range(0, len(graphs), size):
            yield to_tensors(batch_graphs(graphs[start : start + size]), self.graph)

    @torch.no_grad()
    def predict(self, graphs: list[CrystalGraph]) -> tuple[np.ndarray, np.ndarray]:
        """(mean, spread) of the members' energies per atom for each graph."""
        preds = []
        with torch_threads(self.threads):
            for member in self.members:
                member.eval()
                preds.append(np.concatenate([member(b).numpy() for b in self._batches(graphs)]))
        values = np.array(preds) * self.std + self.mean
        return values.mean(axis=0), values.std(axis=0)

    @torch.no_grad()
    def crystal_vectors(self, graphs: list[CrystalGraph]) -> np.ndarray:
        """Crystal vectors of the first member (the landscape coordinates), one row per graph."""
        member = self.members[0]
        member.eval()
        with torch_threads(self.threads):
            return np.concatenate([member.crystal_vectors(b).numpy() for b in self._batches(graphs)])


@dataclass
class TrainReport:
    used: int
    dropped: int
    seconds: float
    epochs: list[int]
    validation_mae: list[float]  # eV/atom, per member, at its best epoch


def clean_targets(energies: np.ndarray, sigma: float) -> np.ndarray:
    """Mask of the targets kept: finite and not above mean + sigma * std."""
    energies = np.asarray(energies, dtype=float)
    keep = np.isfinite(energies)
    if keep.sum() > 2:
        mu, sd = energies[keep].mean(), energies[keep].std()
        keep &= energies <= mu + sigma * sd
    return keep


def train_ensemble(
    graphs: list[CrystalGraph],
    energies: np.ndarray,
    config: TrainConfig | None = None,
    rng: np.random.Generator | None = None,
    *,
    previous: Ensemble | None = None,
    model: ModelConfig | None = None,
    graph: GraphConfig | None = None,
    progress: str | None = None,
) -> tuple[Ensemble, TrainReport]:
    """Train `config.members` CGCNNs on (graph, energy per atom) pairs; returns the ensemble and a report.
    `progress`: a progress-bar label (None: no bar)."""
    from tqdm import tqdm

    config = config or TrainConfig()
    with torch_threads(config.threads), tqdm(total=config.members * config.epochs, desc=progress, unit="epoch",
                                             disable=progress is None, leave=False) as bar:
        return _train(graphs, energies, config, rng, previous, model, graph, bar)


def _train(graphs, energies, config, rng, previous, model, graph, bar):
    rng = rng or np.random.default_rng(0)
    graph = graph or GraphConfig()
    start = time.perf_counter()
    keep = clean_targets(energies, config.outlier_sigma)
    graphs = [g for g, k in zip(graphs, keep) if k]
    y = np.asarray(energies, dtype=float)[keep]
    if len(y) < 4:
        raise ValueError(f"need at least 4 usable energies to train, got {len(y)}")
    mean, std = float(y.mean()), float(y.std()) or 1.0
    tensors = GraphTensors(graphs, graph)
    target = (y - mean) / std
    members, epochs, maes = [], [], []
    budget = None if config.max_seconds is None else config.max_seconds / config.members
    for m in range(config.members):
        torch.manual_seed(int(rng.integers(2**31)))
        net = CGCNN(model, graph)
        if previous is not None and m < len(previous.members):
            net.load_state_dict(previous.members[m].state_dict())
        order = rng.permutation(len(y))
        n_val = max(1, int(round(config.validation_fraction * len(y))))
        val, train = order[:n_val], order[n_val:]
        val_batch = tensors.batch(val)
        val_y = torch.as_tensor(target[val], dtype=torch.float32)
        # foreach: the same weights as the per-parameter loop, bit for bit (benchmarks/train_speed.py), faster.
        opt = torch.optim.Adam(net.parameters(), lr=config.learning_rate, foreach=True)
        # A few labels in batches of 32 would give one optimiser step per epoch: aim for about 8.
        batch_size = int(np.clip(len(train) // 8, min(8, config.batch_size), config.batch_size))
        best, best_state, best_epoch, waited = np.inf, copy.deepcopy(net.state_dict()), 0, 0
        member_start = time.perf_counter()
        epoch = 0
        for epoch in range(1, config.epochs + 1):
            net.train()
            for b in range(0, len(train), batch_size):
                idx = train[b : b + batch_size]
                batch = tensors.batch(idx)
                loss = torch.nn.functional.mse_loss(net(batch), torch.as_tensor(target[idx], dtype=torch.float32))
                opt.zero_grad()
                loss.backward()
                opt.step()
            train = train[rng.permutation(len(train))]
            net.eval()
            with torch.no_grad():
                val_loss = float(torch.nn.functional.l1_loss(net(val_batch), val_y))
            if val_loss < best - 1e-6:
                best, best_state, best_epoch, waited = val_loss, copy.deepcopy(net.state_dict()), epoch, 0
            else:
                waited += 1
            bar.update(1)
            if waited >= config.patience:
                break
            if budget is not None and time.perf_counter() - member_start > budget:
                log.warning("training member %d stopped by train.max_seconds after %d of %d epochs: the result now "
                            "depends on the machine's speed", m, epoch, config.epochs)
                break
        bar.update(config.epochs - epoch)  # the epochs early stopping saved
        net.load_state_dict(best_state)
        members.append(net)
        epochs.append(best_epoch)
        maes.append(best * std)
    report = TrainReport(
        used=len(y), dropped=int((~keep).sum()), seconds=time.perf_counter() - start, epochs=epochs, validation_mae=maes
    )
    log.info(
        "trained %d members on %d energies (%d dropped) in %.1f s; validation MAE %s eV/atom at epochs %s",
        len(members), report.used, report.dropped, report.seconds, ", ".join(f"{x:.3f}" for x in maes),
        ", ".join(map(str, epochs)),
    )
    return Ensemble(members=members, mean=mean, std=std, graph=graph, threads=config.threads), report
