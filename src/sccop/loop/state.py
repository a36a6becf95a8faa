"""The search's state: everything its stages decide from, rebuilt from the store on resume.

The driver (sccop.loop.driver) is the only one to change it, by applying what the stages return; a
resumed run rebuilds it phase by phase from the rows its cursor names (sccop.loop.cursor), so it holds
exactly what the interrupted run held at the same point of its walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SearchState:
    """`structures`: uid -> SymmetricStructure (the pool and the annealing results); `pool`: the uids the
    network scores, in the order they were sampled; `labels`: label uid -> backend energy per atom (ok
    ones only), `label_source`: label uid -> the structure it labels; `relaxed`: relaxation uid -> energy
    per atom (ok ones), `relaxed_atoms` their relaxed structures, `relaxed_parents` the labels relaxed
    so far and `round_relaxed` those relaxed in the current round; `ensemble`: the last trained network;
    `history`: the best relaxed energy at the end of each round; `user_seeds`: the relaxations of a
    user's seed structures (their labels train nothing: the network learns from sampled structures);
    `frames`: structures on the relaxations' paths that the network learns from too (`learn_frames`), key
    -> (their graph, energy per atom)."""

    structures: dict = field(default_factory=dict)
    pool: list[str] = field(default_factory=list)
    labels: dict[str, float] = field(default_factory=dict)
    label_source: dict[str, str] = field(default_factory=dict)
    relaxed: dict[str, float] = field(default_factory=dict)
    relaxed_atoms: dict = field(default_factory=dict)
    relaxed_parents: set[str] = field(default_factory=set)
    round_relaxed: set[str] = field(default_factory=set)
    ensemble: object = None
    history: list[float | None] = field(default_factory=list)
    user_seeds: list[str] = field(default_factory=list)  # relaxations of a user's seed structures
    frames: dict = field(default_factory=dict)

    def add_structures(self, structures: dict, pool: bool = False) -> None:
        """New structures (uid -> SymmetricStructure); `pool`: they join the pool, in this order."""
        self.structures.update(structures)
        if pool:
            self.pool.extend(structures)

    def add_labels(self, labels: list[tuple[str, str, float | None]], relaxation: bool = False, atoms: dict | None = None) -> None:
        """Labels made: (label uid, structure uid, energy or None for a failed call). With relaxation
        labels each is a relaxation too (`atoms`: label uid -> relaxed structure, for the ok ones)."""
        for uid, source, energy in labels:
            self.label_source[uid] = source
            if relaxation:  # already relaxed: no round end relaxes it again
                self.relaxed_parents.add(uid)
            if energy is not None:
                self.labels[uid] = energy
                if relaxation:
                    self.relaxed[uid] = energy
                    self.relaxed_atoms[uid] = atoms[uid]

    def add_relaxations(self, relaxed: dict[str, float | None], atoms: dict, parents: list[str] | None = None) -> None:
        """Relaxations made (uid -> energy or None); `parents`: the labels they relaxed, when all of them
        were made (a relaxation cut short by the budget leaves its label to be chosen again)."""
        for uid, energy in relaxed.items():
            if energy is not None:
                self.relaxed[uid] = energy
                self.relaxed_atoms[uid] = atoms[uid]
        if parents is not None:
            self.relaxed_parents.update(parents)
            self.round_relaxed.update(parents)

    def add_frames(self, frames: dict) -> None:
        """Structures on relaxation paths (key -> (graph, energy per atom)) for the next training."""
        self.frames.update(frames)

    @property
    def labelled(self) -> set[str]:
        """The structures that have a label (ok or failed)."""
        return set(self.label_source.values())

    def best(self) -> float | None:
        """The lowest relaxed energy per atom so far."""
        return min(self.relaxed.values(), default=None)

    def labelled_order(self) -> list[str]:
        """Label uids, lowest energy first (ties in the order they were made)."""
        return sorted(self.labels, key=self.labels.get)

    def training_set(self) -> tuple[list[str], np.ndarray]:
        """(structure uids, energies) of every ok label, by label uid."""
        uids = sorted(self.labels)
        return [self.label_source[u] for u in uids], np.array([self.labels[u] for u in uids])


__all__ = ["SearchState"]
