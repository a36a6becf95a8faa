"""Refinement: the backend calls that turn a run's relaxations into its answer (read by sccop.answer.ranking).

- Symmetrise and re-relax: each of the `top` lowest candidates is symmetrised at increasing tolerances
  (the refined cell, made primitive); every new space group is re-relaxed under ASE's FixSymmetry
  (stage `refine`, uid `refine:<relax uid>@<tolerance>`, `parent` the relaxation, `symprec` the
  tolerance, `target_spacegroup` the group it was symmetrised to).
- Re-rank (optional): a second backend relaxes the `rerank_top` lowest candidates (stage `rerank`, uid
  `rerank:<backend>:<candidate uid>`).
- Elemental references (layers, or `formation = "on"`): simple forms of each element relaxed by the
  backend (sccop.answer.references, stage `reference`), for the formation energies in the summary.
Refinement calls are made after the search, through the run's ledger, and no budget counts them: their
rows carry `refine_call=1` instead of `backend_call=1`. Calls already in the store are not repeated.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sccop.answer import references
from sccop.answer.candidates import Candidate, raw_candidates
from sccop.answer.ranking import ranked, rerank_backend, rerank_name, tie_tolerance
from sccop.calls.ledger import CallItem, CallSpec, Ledger
from sccop.calls.rows import RELAXATION, refine_uid, rerank_uid
from sccop.config import RunConfig
from sccop.errors import SccopInputError
from sccop.symmetry.analysis import symmetrized_versions

log = logging.getLogger(__name__)


def check_available(backend, atoms) -> None:
    """Build the backend's calculator once, so that a missing binary, pseudopotential or model is one
    clear error instead of a failed row per candidate."""
    from sccop.backends import BackendUnavailable, make_calculator

    try:
        make_calculator(backend, atoms)
    except BackendUnavailable as exc:
        raise SccopInputError(f"re-ranking backend {backend.name} is unavailable: {exc}") from None


def symmetrised_calls(store, config: RunConfig) -> list[CallItem]:
    """The FixSymmetry relaxations of the symmetrised versions of the `refine.top` lowest candidates."""
    items = []
    for c in raw_candidates(store, config.refine.top, tie_tolerance(config)):
        for tol, number, atoms in symmetrized_versions(c.atoms, config.refine.tolerances):
            items.append(CallItem(refine_uid(c.source, tol), atoms,
                                  {"parent": c.source, "symprec": tol, "round": c.round, "target_spacegroup": number}))
    return items


def rerank_calls(store, config: RunConfig) -> list[CallItem]:
    """The second backend's relaxations of the `rerank_top` candidates as the first backend ranks them."""
    name = rerank_name(config)
    primary = ranked(store, replace(config, refine=replace(config.refine, rerank=None)))[: config.refine.rerank_top]
    return [CallItem(rerank_uid(name, c.uid), c.atoms, {"parent": c.uid, "round": c.round, "model": config.refine.rerank_model})
            for c in primary]


def refine(store, config: RunConfig, *, ledger: Ledger | None = None, calculator=None, rerank_calculator=None,
           progress: bool = False, top: int | None = None, executor=None) -> list[Candidate]:
    """Make the refinement calls not made yet and return the final candidates (`ranked`).

    `ledger`: the run's (default a new one on `store`, on `executor` when given); `calculator` /
    `rerank_calculator`: ASE calculators used instead of the two backends.
    """
    cfg = config.refine
    ledger = ledger or Ledger(store, executor, chunk=config.search.chunk, progress=progress)
    if cfg.symmetrize:
        fixed = replace(config.relax, fix_symmetry=True, symprec=min(config.relax.symprec, 0.01))
        spec = CallSpec("refine", RELAXATION, config.backend, fixed, counted=False, calculator=calculator)
        made = ledger.run(spec, symmetrised_calls(store, config), desc=f"symmetrising ({config.backend.name})").made
        if made:
            log.info("refinement: %d symmetrised versions re-relaxed under FixSymmetry", made)
    if references.wanted(config) and config.composition:
        from sccop.composition import parse_composition

        elements = parse_composition(config.composition).elements
        made = references.reference_calls(store, config, elements, calculator=calculator, executor=ledger.executor,
                                          progress=progress)
        if made:
            log.info("elemental references: %d forms relaxed", made)
        for element, (energy, form) in references.chemical_potentials(store, elements).items():
            log.info("reference of %s: %s, %.4f eV/atom", element, form, energy)
    if cfg.rerank:
        backend = rerank_backend(config)
        items = rerank_calls(store, config)
        if rerank_calculator is None and any(item.uid not in store for item in items):
            check_available(backend, items[0].atoms)
        spec = CallSpec("rerank", RELAXATION, backend, config.relax, counted=False, calculator=rerank_calculator)
        made = ledger.run(spec, items, desc=f"re-ranking ({rerank_name(config)})").made
        if made:
            log.info("re-ranking: %d candidates relaxed with %s", made, rerank_name(config))
    return ranked(store, config, top)


def write_answer(store, out, config: RunConfig, *, ledger: Ledger, calculator=None, rerank_calculator=None,
                 progress: bool = False) -> list[Candidate]:
    """A finished walk's answer: the outputs of the relaxed structures first (refinement may fail), then,
    when anything relaxed, refinement and re-ranking and the outputs again. Returns the refined candidates
    ([] when nothing relaxed, or when refinement failed: the relaxed answer then stands, and the log says why)."""
    from sccop.answer.outputs import write_outputs
    from sccop.relaxation import describe_error

    write_outputs(store, out, config)
    if not store.count(stage="relax", status="ok"):
        return []
    try:
        candidates = refine(store, config, ledger=ledger, calculator=calculator, rerank_calculator=rerank_calculator,
                            progress=progress, top=config.search.top)
        write_outputs(store, out, config, candidates)
        return candidates
    except SccopInputError:
        raise  # e.g. the re-ranking backend is missing: the relaxed answer is written already
    except Exception as exc:  # noqa: BLE001 - the relaxed answer stands; say why it was not refined
        log.warning("refinement failed, the answer is the relaxed structures: %s", describe_error(exc))
        return []


__all__ = ["refine", "write_answer", "check_available", "symmetrised_calls", "rerank_calls"]
