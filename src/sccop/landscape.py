"""Partition of the energy landscape and selection of diverse low-energy candidates.

Crystal vectors from the network -> KernelPCA (rbf) -> KMeans regions. Each region keeps its lowest
predicted structures, taken in turn from its space groups so one group cannot fill it. Duplicates go
first by crystal-vector distance (cheap), then by pymatgen's StructureMatcher. A family cap
(`family_cap`) spreads the picks over Wyckoff assignments.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from sccop.config import LandscapeConfig


def _centre(vectors: np.ndarray) -> np.ndarray:
    """Centred and divided by one overall scale. Not per feature: that would blow near-constant
    components (noise) up to the size of the informative ones."""
    centred = vectors - vectors.mean(axis=0)
    scale = float(centred.std())
    return centred / scale if scale > 0 else centred


def partition(vectors: np.ndarray, config: LandscapeConfig | None = None, rng: np.random.Generator | None = None):
    """(labels, embedding): a KMeans region per structure and its KernelPCA coordinates."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import KernelPCA

    config = config or LandscapeConfig()
    rng = rng or np.random.default_rng(0)
    vectors = np.asarray(vectors, dtype=float)
    n = len(vectors)
    if n == 0:
        return np.empty(0, dtype=int), np.empty((0, config.components))
    scaled = _centre(vectors)
    components = min(config.components, max(1, n - 1))
    embedding = KernelPCA(n_components=components, kernel="rbf", random_state=int(rng.integers(2**31))).fit_transform(scaled)
    k = min(config.clusters, n)
    labels = KMeans(n_clusters=k, n_init=10, random_state=int(rng.integers(2**31))).fit_predict(embedding)
    return labels, embedding


def representatives(
    labels: np.ndarray, energies: np.ndarray, spacegroups: np.ndarray, per_cluster: int
) -> list[int]:
    """Per region, up to `per_cluster` structures: lowest energy first, taking space groups in turn."""
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        by_group: dict[int, list[int]] = defaultdict(list)
        for i in members[np.argsort(energies[members], kind="stable")]:
            by_group[int(spacegroups[i])].append(int(i))
        queues = sorted(by_group.values(), key=lambda q: energies[q[0]])  # best group first
        picked: list[int] = []
        while len(picked) < per_cluster and any(queues):
            for q in queues:
                if q and len(picked) < per_cluster:
                    picked.append(q.pop(0))
        chosen.extend(picked)
    return chosen


def deduplicate(indices: list[int], vectors: np.ndarray, structures=None, config: LandscapeConfig | None = None,
                known: np.ndarray | None = None) -> list[int]:
    """Drop later indices whose crystal vector (or, with `structures`, StructureMatcher) matches an earlier one,
    and (vectors only) those matching a row of `known`, e.g. the vectors of structures labelled already."""
    config = config or LandscapeConfig()
    vectors = np.asarray(vectors, dtype=float)
    known = np.zeros((0, vectors.shape[1])) if known is None or len(known) == 0 else np.asarray(known, dtype=float)
    scale = float(np.abs(vectors).mean()) or 1.0
    limit = config.vector_tolerance * scale
    kept: list[int] = []
    for i in indices:
        if any(np.linalg.norm(vectors[i] - vectors[j]) < limit for j in kept):
            continue
        if len(known) and np.linalg.norm(known - vectors[i], axis=1).min() < limit:
            continue
        kept.append(i)
    if structures is None or not config.use_matcher:
        return kept
    from sccop.symmetry.analysis import matcher

    match = matcher()
    unique: list[int] = []
    for i in kept:
        if not any(match.fit(structures[i], structures[j]) for j in unique):
            unique.append(i)
    return unique


def select(
    energies: np.ndarray,
    vectors: np.ndarray,
    count: int,
    *,
    uncertainty: np.ndarray | None = None,
    config: LandscapeConfig | None = None,
    rng: np.random.Generator | None = None,
    families: list | None = None,
) -> list[int]:
    """`count` diverse low-energy candidates: KMeans into `count` groups, the lowest bound of each.

    The bound is E - kappa * sigma (kappa = uncertainty_weight), so uncertain structures get a bonus.
    With `families` (one key per candidate) and `config.family_cap` > 0, no family gets more than the cap:
    each group, best group first, gives its lowest member whose family is not full, and what is still
    missing is filled with the lowest of the rest under the cap (fewer than `count` when families run out).
    """
    from sklearn.cluster import KMeans

    config = config or LandscapeConfig()
    rng = rng or np.random.default_rng(0)
    energies = np.asarray(energies, dtype=float)
    score = energies - config.uncertainty_weight * (uncertainty if uncertainty is not None else 0.0)
    scaled = _centre(np.asarray(vectors, dtype=float))
    k = min(count, len(energies))
    labels = KMeans(n_clusters=k, n_init=10, random_state=int(rng.integers(2**31))).fit_predict(scaled)
    if families is None or config.family_cap <= 0:
        picks = [int(np.flatnonzero(labels == c)[np.argmin(score[labels == c])]) for c in range(k)]
        return sorted(picks, key=lambda i: score[i])
    return capped_picks(score, labels, families, k, config.family_cap)


def capped_picks(score: np.ndarray, labels: np.ndarray, families: list, count: int, cap: int) -> list[int]:
    """Up to `count` indices, at most `cap` per family: per KMeans group (`labels`), best group first, its
    lowest member in a family under the cap; then the lowest of the rest. Lowest score first."""
    used: Counter = Counter()
    picks: list[int] = []

    def take(i: int) -> bool:
        if i in picks or used[families[i]] >= cap:
            return False
        picks.append(i)
        used[families[i]] += 1
        return True

    order = [int(i) for i in np.argsort(score, kind="stable")]
    for c in sorted(set(labels.tolist()), key=lambda c: score[labels == c].min()):
        next((i for i in order if labels[i] == c and take(i)), None)
    for i in order:
        if len(picks) >= count:
            break
        take(i)
    return sorted(picks, key=lambda i: score[i])
