"""Training the space-group model (scripts/train_group_prior.py): a split by formula, a seeded MLP fit
with early stopping on held-out formulas of the training part, and top-k accuracy."""

from __future__ import annotations

import math

import numpy as np

from sccop.prior.features import parse_counts
from sccop.prior.model import LAYERS, GroupModel


def formula_key(formula: str) -> str:
    """The reduced formula, elements sorted: the unit a split keeps on one side."""
    counts = parse_counts(formula)
    if all(float(v).is_integer() for v in counts.values()):
        g = 0
        for v in counts.values():
            g = math.gcd(g, int(v))
        counts = {k: v / g for k, v in counts.items()}
    return "".join(f"{k}{v:g}" for k, v in sorted(counts.items()))


def split_by_formula(formulas: list[str], share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (kept, held out): `share` of the distinct formulas held out, every row of a formula on
    the same side."""
    keys = [formula_key(f) for f in formulas]
    distinct = sorted(set(keys))
    rng = np.random.default_rng(seed)
    held = set(rng.choice(distinct, size=max(1, round(share * len(distinct))), replace=False).tolist())
    out = np.array([k in held for k in keys])
    return np.flatnonzero(~out), np.flatnonzero(out)


def top_k_accuracy(probabilities: np.ndarray, groups: np.ndarray, ks=(1, 5, 10)) -> dict[int, float]:
    """Share of rows whose group is among the k most probable."""
    order = np.argsort(-probabilities, axis=1)
    hits = order == (np.asarray(groups) - 1)[:, None]
    return {k: float(hits[:, :k].any(axis=1).mean()) for k in ks}


def train_model(features: np.ndarray, groups: np.ndarray, validation: tuple[np.ndarray, np.ndarray], *,
                hidden: int = 512, epochs: int = 80, patience: int = 8, batch: int = 256, lr: float = 1e-3,
                dropout: float = 0.1, seed: int = 0, log=print) -> GroupModel:
    """Fit the MLP on (features, groups 1-230); keep the epoch with the best validation loss."""
    import torch

    torch.manual_seed(seed)
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale < 1e-8] = 1.0
    x = torch.tensor((features - mean) / scale, dtype=torch.float32)
    y = torch.tensor(np.asarray(groups) - 1)
    vx = torch.tensor((validation[0] - mean) / scale, dtype=torch.float32)
    vy = torch.tensor(np.asarray(validation[1]) - 1)
    sizes = [x.shape[1]] + [hidden] * (LAYERS - 1) + [230]
    parts: list[torch.nn.Module] = []
    for k in range(LAYERS):
        parts.append(torch.nn.Linear(sizes[k], sizes[k + 1]))
        if k < LAYERS - 1:
            parts += [torch.nn.SiLU(), torch.nn.Dropout(dropout)]
    net = torch.nn.Sequential(*parts)
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(seed)
    best, best_state, waited = math.inf, None, 0
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
            loss.backward()
            optimiser.step()
        net.eval()
        with torch.no_grad():
            logits = net(vx)
            vloss = float(torch.nn.functional.cross_entropy(logits, vy))
            top1 = float((logits.argmax(dim=1) == vy).float().mean())
        log(f"epoch {epoch + 1}: validation loss {vloss:.4f}, top-1 {top1:.3f}")
        if vloss < best - 1e-4:
            best, waited = vloss, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    net.load_state_dict(best_state)
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    arrays = {"mean": mean, "scale": scale}
    for k, m in enumerate(linear):
        arrays[f"w{k}"] = m.weight.detach().numpy().T.copy()
        arrays[f"b{k}"] = m.bias.detach().numpy().copy()
    return GroupModel(arrays, {"validation_loss": best, "hidden": hidden, "seed": seed})


__all__ = ["formula_key", "split_by_formula", "top_k_accuracy", "train_model"]
