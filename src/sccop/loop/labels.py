"""Which structures the backend labels and relaxes, and the calls that do it.

Labels are single points (uid label:U) or, with `label_with = "relaxation"`, relaxations (uid
relax:label:U, labelled with the relaxed energy). The lowest labels not relaxed yet are relaxed at
each round's end (`relax_top`), and with `relax_each` during the round, one per StructureMatcher group.
With `screen` > 1, `screen` times as many are relaxed for `screen_steps` steps first (uid screen:U) and
the lowest of those are relaxed in full from where their screen stopped.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from sccop.calls.ledger import CallItem
from sccop.calls.rows import label_uid, relax_uid, screen_uid
from sccop.config import RunConfig
from sccop.loop.state import SearchState
from sccop.symmetry.analysis import matcher, to_structure


def initial_picks(state: SearchState, config: RunConfig, rng: np.random.Generator) -> list[str]:
    """Round 0: `initial_labels` pool members drawn at random, in pool order."""
    pool = state.pool
    chosen = rng.choice(len(pool), min(config.search.initial_labels, len(pool)), replace=False)
    return [pool[i] for i in sorted(chosen)]


def label_calls(state: SearchState, config: RunConfig, uids: list[str], round_: int, iteration: int) -> list[CallItem]:
    """The backend calls that label `uids`. A relaxation label's own group is that of its result, so the
    sampled group and Wyckoff letters are kept as parent_spacegroup and parent_wyckoff."""
    relaxation = config.search.label_with == "relaxation"
    start = "parent_" if relaxation else ""
    items = []
    for uid in uids:
        s = state.structures[uid]
        items.append(CallItem(label_uid(uid, relaxation), s.to_atoms(), {
            "round": round_, "iteration": iteration, "parent": uid, f"{start}spacegroup": s.spacegroup,
            f"{start}wyckoff": "".join(s.wyckoff_labels()),
        }))
    return items


def relax_picks(state: SearchState, count: int, family_cap: int = 0) -> list[str]:
    """The `count` lowest labels not relaxed yet, none a copy (StructureMatcher) of another pick or of a
    label relaxed earlier in this round; with `family_cap` > 0, at most that many of one family (group and
    Wyckoff assignment) in the round, those relaxed earlier in it counted."""
    if count <= 0:
        return []
    match = matcher()
    chosen: list[str] = []
    round_sources = [state.structures[state.label_source[u]] for u in sorted(state.round_relaxed) if u in state.label_source]
    taken = [to_structure(s.to_atoms()) for s in round_sources]
    families = Counter(s.family() for s in round_sources) if family_cap else Counter()
    for uid in state.labelled_order():
        if len(chosen) == count:
            break
        if uid in state.relaxed_parents:
            continue
        source = state.structures[state.label_source[uid]]
        family = source.family() if family_cap else None
        if family_cap and families[family] >= family_cap:
            continue
        structure = to_structure(source.to_atoms())
        if any(match.fit(structure, other) for other in taken):
            continue
        chosen.append(uid)
        taken.append(structure)
        families[family] += 1
    return chosen


def relax_calls(state: SearchState, picks: list[str], round_: int, starts: dict | None = None) -> list[CallItem]:
    """The relaxations of the picked labels' structures (`starts`: label uid -> the structure a screen
    left it at, where the relaxation starts instead)."""
    starts = starts or {}
    return [CallItem(relax_uid(u), starts[u] if u in starts else state.structures[state.label_source[u]].to_atoms(),
                     {"round": round_, "parent": u, **({"screened": screen_uid(u)} if u in starts else {})})
            for u in picks]


def screen_calls(state: SearchState, picks: list[str], round_: int) -> list[CallItem]:
    """The screening relaxations (a few steps) of the picked labels' structures."""
    return [CallItem(screen_uid(u), state.structures[state.label_source[u]].to_atoms(), {"round": round_, "parent": u})
            for u in picks]


def screened(picks: list[str], energies: dict[str, float | None], count: int) -> list[str]:
    """The `count` picks lowest after their screens (uid screen:U -> energy per atom, None when failed),
    lowest first; a failed screen is never picked."""
    ok = [u for u in picks if energies.get(screen_uid(u)) is not None]
    return sorted(ok, key=lambda u: (energies[screen_uid(u)], picks.index(u)))[:count]


def path_labels(uid: str, row, config: RunConfig) -> dict:
    """The structures a relaxation row keeps of its path (data["frames"]) as labels: key uid#k -> (their
    asymmetric-unit graph, orbits from spglib, built once here; energy per atom, or enthalpy per atom under
    pressure, as the search ranks)."""
    from ase import Atoms

    from sccop.graph import symmetry_graph
    from sccop.relaxation import OK, EnergyResult, enthalpy_per_atom

    out = {}
    for k, frame in enumerate(row.data.get("frames") or []):
        atoms = Atoms(numbers=row.numbers, cell=frame["cell"], positions=frame["positions"], pbc=row.pbc)
        energy = enthalpy_per_atom(EnergyResult(status=OK, atoms=atoms, energy=frame["energy"]), config.relax.pressure)
        out[f"{uid}#{k}"] = (symmetry_graph(atoms, config.graph), energy)
    return out


__all__ = ["initial_picks", "label_calls", "relax_picks", "relax_calls", "screen_calls", "screened", "path_labels"]
