"""The stages as plain functions for Python users, with ASE Atoms in and out (see docs/api.md):
`sample` symmetric structures of a composition, `relax` structures with a backend or any ASE calculator,
and `open_run` a finished run folder for `sccop.ranked` (the search itself is sccop.loop.driver.search)."""

from __future__ import annotations

from pathlib import Path

from ase import Atoms

from sccop.config import BackendConfig, RelaxConfig, RunConfig, SamplerConfig

MAX_SAMPLES = 100_000  # structures one `sample` call makes


def sample(composition: str, count: int = 10, *, atoms: str | None = None, formula_units: str | None = None,
           seed: int = 0, config: SamplerConfig | None = None, stats=None, progress: bool = False) -> list[Atoms]:
    """`count` symmetric structures of `composition` (fewer when the sampler gives up on some), as primitive
    cells unless `config.primitive` is False; each carries info keys spacegroup, wyckoffs, elements, seed
    and index. `atoms` / `formula_units`: cell sizes per primitive cell, "N" or "A-B"."""
    from sccop.allowed import integer
    from sccop.composition import cell_sizes, parse_composition
    from sccop.sampling.sampler import Sampler

    count = integer(1, MAX_SAMPLES).check(count, "count")
    seed = integer(0, 2**32 - 1).check(seed, "seed")
    config = config or SamplerConfig()
    parsed = parse_composition(composition)
    sampler = Sampler(parsed, cell_sizes(parsed, atoms, formula_units), config)
    found = sampler.sample(count, seed, stats=stats, progress=progress)
    return [s.to_atoms(primitive=config.primitive, info={"seed": seed, "index": i}) for i, s in found]


def predict_groups(composition: str, top: int = 10, *, atoms: str | None = None, formula_units: str | None = None):
    """The shipped model's `top` most probable space groups for `composition` (sccop.prior.predict.GroupVote:
    group, symbol, probability renormalised over the groups the cell fits, the model's own probability),
    among the groups whose Wyckoff positions fit the cells of `atoms` / `formula_units`."""
    from sccop.allowed import integer
    from sccop.composition import cell_sizes, parse_composition
    from sccop.prior.predict import predict_groups as ranked_groups

    parsed = parse_composition(composition)
    return ranked_groups(parsed, cell_sizes(parsed, atoms, formula_units), integer(1, 230).check(top, "top"))


def relax(structures: Atoms | list[Atoms], backend: str | BackendConfig = "chgnet", *, calculator=None,
          config: RelaxConfig | None = None, progress=None) -> list:
    """Relax every structure (lockstep batches for ML potentials); one sccop.relaxation.EnergyResult each,
    status ok or failed with its reason. `calculator`: any ASE calculator (or atoms -> calculator) instead
    of the backend's."""
    from sccop.backends import parse_backend
    from sccop.relaxation import relax_many

    if isinstance(structures, Atoms):
        structures = [structures]
    if not isinstance(backend, BackendConfig):
        backend = BackendConfig(name="ase" if calculator is not None else parse_backend(backend).value)
    return relax_many(list(structures), backend, config or RelaxConfig(), calculator=calculator, progress=progress)


def open_run(out: str | Path):
    """(Store, RunConfig) of a run folder, for `sccop.ranked(store, config)` and the store's rows."""
    from sccop.calls.rundir import read_settings
    from sccop.calls.store import open_store

    config: RunConfig = read_settings(out)
    return open_store(Path(out), config), config


__all__ = ["sample", "relax", "open_run"]
