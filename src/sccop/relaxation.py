"""Single points and relaxations, where every failure is data.

A result always comes back: status "ok" (with `converged` telling whether fmax was reached within the
step limit) or "failed" with a reason: overlapping atoms before the call, a calculator that raises, a
non-finite energy, forces or stress, atoms collapsing below `min_distance` (during the relaxation) or
below `min_bond_ratio` of their covalent radii (its end), the cell exploding beyond `max_volume_ratio`,
an ML potential's energy far below (a hole) or above its atoms' element energies, an unconverged SCF,
a timeout, a missing binary or pseudopotential.

Relaxations of many structures run in lockstep: each round one evaluator call fills the energies,
forces and stresses of all active structures (batched for ML potentials), then each structure's ASE
optimizer, acting on a FrechetCellFilter, takes one step from those cached values.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from threadpoolctl import ThreadpoolController

from sccop.config import BackendConfig, RelaxConfig
from sccop.symmetry.analysis import is_layer

log = logging.getLogger(__name__)

OK, FAILED = "ok", "failed"


@dataclass
class EnergyResult:
    """Outcome of one single point or relaxation. Energies in eV; `atoms` is the final structure."""

    status: str
    atoms: Atoms
    reason: str | None = None
    energy: float | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    steps: int = 0
    converged: bool = False
    seconds: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def energy_per_atom(self) -> float | None:
        return None if self.energy is None else self.energy / len(self.atoms)


def failed(atoms: Atoms, reason: str, **kw) -> EnergyResult:
    return EnergyResult(status=FAILED, atoms=atoms, reason=reason, **kw)


def cell_size(atoms: Atoms) -> float | None:
    """The cell volume of a crystal, the in-plane area of a layer (None for anything else)."""
    if atoms.pbc.all():
        return atoms.get_volume()
    if is_layer(atoms):
        return float(np.linalg.norm(np.cross(atoms.cell[0], atoms.cell[1])))
    return None


def structure_problem(atoms: Atoms, config: RelaxConfig, volume0: float | None = None) -> str | None:
    """Collapsed atoms or an exploded cell (volume, or a layer's area), as a reason; None when the geometry
    is sane."""
    from ase.neighborlist import neighbor_list

    if len(atoms) > 1 or atoms.pbc.any():
        d = neighbor_list("d", atoms, config.min_distance)
        if len(d):
            return f"atoms collapsed: distance {d.min():.3f} A < {config.min_distance} A"
    size = cell_size(atoms) if volume0 else None
    if size:
        ratio = size / volume0
        if ratio > config.max_volume_ratio:
            what = "volume" if atoms.pbc.all() else "area"
            return f"cell exploded: {what} x{ratio:.1f} > x{config.max_volume_ratio}"
    return None


def bond_problem(atoms: Atoms, ratio: float) -> str | None:
    """The closest pair nearer than `ratio` times the sum of its covalent radii, as a reason; None when
    there is none (or `ratio` is 0)."""
    from ase.data import covalent_radii
    from ase.neighborlist import neighbor_list

    if not ratio or not (len(atoms) > 1 or atoms.pbc.any()):
        return None
    radii = covalent_radii[atoms.numbers]
    i, j, d = neighbor_list("ijd", atoms, ratio * 2 * float(radii.max()), self_interaction=False)
    if not len(d):
        return None
    share = d / (radii[i] + radii[j])
    k = int(np.argmin(share))
    if share[k] >= ratio:
        return None
    symbols = atoms.get_chemical_symbols()
    return (f"atoms collapsed: {symbols[i[k]]}-{symbols[j[k]]} {d[k]:.3f} A is {share[k]:.2f} of their covalent "
            f"radii (< {ratio:g})")


def energy_reference(atoms: Atoms, backend: BackendConfig, calculator=None) -> float | None:
    """The reference the energy guard measures against (eV/atom): the mean element energy of `atoms` for an
    ML potential on Materials Project's PBE scale (CHGNet; SevenNet's 7net-0, 7net-l3i5, 7net-mf-0 at PBE);
    None (no guard) for other fidelities, DFT, EMT, LJ or a given calculator, whose energies are on other
    scales."""
    from sccop.backends.element_energies import element_reference_per_atom, on_table_scale

    if calculator is not None or not on_table_scale(backend):
        return None
    return element_reference_per_atom(atoms.numbers)


def energy_problem(energy: float, n_atoms: int, reference: float | None, config: RelaxConfig,
                   *, above: bool = True) -> str | None:
    """An energy per atom too far below (or, with `above`, above) `reference` for a real structure, as a
    reason; None when it is plausible or there is no reference."""
    if reference is None:
        return None
    shift = energy / n_atoms - reference
    below, high = config.max_energy_below_reference, config.max_energy_above_reference
    if below and shift < -below:
        return (f"unphysical energy: {energy / n_atoms:.3f} eV/atom is {-shift:.3g} eV/atom below the element "
                f"reference (> {below:g}; a hole in the potential)")
    if above and high and shift > high:
        return (f"unphysical energy: {energy / n_atoms:.3f} eV/atom is {shift:.3g} eV/atom above the element "
                f"reference (> {high:g})")
    return None


def values_problem(props: dict) -> str | None:
    for key in ("energy", "forces", "stress"):
        if key in props and not np.all(np.isfinite(props[key])):
            return f"non-finite {key}"
    return None


def enthalpy_per_atom(result: "EnergyResult", pressure: float) -> float | None:
    """Energy per atom, or enthalpy per atom (E + PV) under `pressure` in GPa for periodic cells; None
    for a failed call."""
    if not result.ok:
        return None
    if pressure and result.atoms.pbc.all():
        from ase.units import GPa

        return (result.energy + pressure * GPa * result.atoms.get_volume()) / len(result.atoms)
    return result.energy_per_atom


def describe_error(exc: BaseException) -> str:
    from sccop.backends import BackendUnavailable
    from sccop.backends.simple import ScfNotConverged

    if isinstance(exc, (BackendUnavailable, ScfNotConverged)):
        return str(exc)
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if "returned non-zero exit status 124" in str(exc) or "exit status 137" in str(exc):
        return "timeout: the external program was killed at the backend's time limit"
    return f"calculator error: {type(exc).__name__}: {first}"[:300]


class _Worker:
    """A long-lived daemon thread that runs backend calls one at a time.

    Reusing one thread matters: torch sets up per-thread state, and a fresh thread per call cost
    70 ms per CHGNet call on 2 cores (3x the call itself).
    """

    def __init__(self) -> None:
        self.jobs: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="sccop-backend-call")
        self.thread.start()

    def _loop(self) -> None:
        while True:
            fn, args, box, done = self.jobs.get()
            try:
                box["value"] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                box["error"] = exc
            finally:
                done.set()


_workers = threading.local()


def call_with_timeout(fn, timeout: float, *args):
    """Run fn(*args) on this thread's worker; raise TimeoutError if it is not done in `timeout` seconds.

    A thread cannot be killed, so a stuck in-process calculator is abandoned with its worker (the next
    call gets a new one); external programs also run under coreutils `timeout` (see backends.dft), so
    they do get killed.
    """
    worker = getattr(_workers, "worker", None)
    if worker is None:
        worker = _workers.worker = _Worker()
    box: dict = {}
    done = threading.Event()
    worker.jobs.put((fn, args, box, done))
    if not done.wait(timeout):
        _workers.worker = None
        raise TimeoutError(f"timeout after {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _bare(atoms: Atoms) -> Atoms:
    """A copy for the calculator, without constraints (FixSymmetry acts on the optimizer's side)."""
    copy = atoms.copy()
    copy.set_constraint()
    return copy


def _evaluate_guarded(evaluate, structures: list[Atoms], keys: list, budgets: list[float], batched: bool):
    """Evaluate under time limits; returns (values, seconds charged to each structure).

    A batched evaluator gets one call limited by the smallest budget, its time charged to every member;
    any other evaluator gets one call per structure, so one stuck structure cannot use up the others' time.
    """
    if batched:
        start = time.perf_counter()
        try:
            values = call_with_timeout(evaluate, max(0.1, min(budgets)), [_bare(a) for a in structures], keys)
        except TimeoutError as exc:
            values = [exc] * len(structures)
        return values, [time.perf_counter() - start] * len(structures)
    values, seconds = [], []
    for atoms, key, budget in zip(structures, keys, budgets):
        start = time.perf_counter()
        try:
            values.extend(call_with_timeout(evaluate, max(0.1, budget), [_bare(atoms)], [key]))
        except TimeoutError as exc:
            values.append(exc)
        seconds.append(time.perf_counter() - start)
    return values, seconds


def _is_batched(backend: BackendConfig, calculator) -> bool:
    from sccop.backends import parse_backend

    return calculator is None and parse_backend(backend.name).is_ml and backend.batch_size > 1


def _attach(atoms: Atoms, props: dict) -> None:
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms.calc = SinglePointCalculator(atoms, **props)


def single_points(
    structures: list[Atoms], backend: BackendConfig, config: RelaxConfig | None = None, *, calculator=None
) -> list[EnergyResult]:
    """Energies, forces and stresses of many structures (batched for ML potentials), one result each.

    `calculator`: an ASE calculator (or atoms -> calculator) to use instead of `backend`'s.
    """
    from sccop.backends import make_evaluator

    config = config or RelaxConfig()
    evaluate = make_evaluator(backend, calculator)
    results: list[EnergyResult | None] = [None] * len(structures)
    todo = []
    for i, atoms in enumerate(structures):
        atoms = atoms.copy()
        problem = structure_problem(atoms, config)
        if problem:
            results[i] = failed(atoms, f"overlapping atoms before the call ({problem})")
        else:
            todo.append((i, atoms))
    start = time.perf_counter()
    if todo:
        batch = [a for _, a in todo]
        batched = _is_batched(backend, calculator)
        # A batched call gets the time of all its batches; otherwise each structure gets timeout_s.
        n_calls = -(-len(batch) // backend.batch_size) if batched else 1
        budgets = [backend.timeout_s * n_calls] * len(batch)
        values, _ = _evaluate_guarded(evaluate, batch, [i for i, _ in todo], budgets, batched)
        per = (time.perf_counter() - start) / len(batch)
        for (i, atoms), value in zip(todo, values):
            if isinstance(value, BaseException):
                results[i] = failed(atoms, str(value) if isinstance(value, TimeoutError) else describe_error(value), seconds=per)
                continue
            problem = values_problem(value)
            if problem:
                results[i] = failed(atoms, problem, seconds=per)
                continue
            problem = energy_problem(value["energy"], len(atoms), energy_reference(atoms, backend, calculator), config)
            if problem:
                results[i] = failed(atoms, problem, energy=value["energy"], seconds=per)
                continue
            _attach(atoms, value)
            results[i] = EnergyResult(
                status=OK, atoms=atoms, energy=value["energy"], forces=value["forces"],
                stress=value.get("stress"), converged=True, seconds=per,
            )
    return results  # type: ignore[return-value]


# Voigt strain components a layer's cell may relax: xx, yy and xy (not zz, yz, xz).
LAYER_CELL_MASK = [1, 1, 0, 0, 0, 1]


def _prepare(atoms: Atoms, config: RelaxConfig):
    """The optimizable (FrechetCellFilter with pressure, masked to the plane for a layer, or the atoms) and
    its ASE optimizer."""
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS, FIRE
    from ase.units import GPa

    constraints = []
    if config.fix_symmetry:
        from ase.constraints import FixSymmetry

        constraints.append(FixSymmetry(atoms, symprec=config.symprec))
    if config.rigid_units and atoms.get_tags().any():
        from sccop.rigid import RigidUnits

        constraints.append(RigidUnits(atoms))
    if constraints:
        atoms.set_constraint(constraints)
    if not config.relax_cell:
        target = atoms
    elif is_layer(atoms):  # a layer's cell relaxes in its plane only: c, its normal and its vacuum stay
        target = FrechetCellFilter(atoms, mask=LAYER_CELL_MASK)
    else:
        target = FrechetCellFilter(atoms, scalar_pressure=config.pressure * GPa)
    optimizers = {"fire": FIRE, "bfgs": BFGS}
    if config.optimizer.lower() not in optimizers:
        from sccop.errors import SccopInputError

        raise SccopInputError(f"unknown optimizer {config.optimizer!r} (known: fire, bfgs)")
    return target, optimizers[config.optimizer.lower()](target, logfile=None)


def rattle(atoms: Atoms, stdev: float) -> None:
    """Displace every atom by a Gaussian of `stdev` Angstrom per axis, in place.

    The generator is seeded by the structure (numbers, cell and positions rounded to 1e-6), so a
    structure is always displaced the same way, whatever else is relaxed with it.
    """
    import hashlib

    content = np.concatenate([atoms.numbers.astype(float), np.round(atoms.cell.array, 6).ravel(),
                              np.round(atoms.positions, 6).ravel()])
    seed = int.from_bytes(hashlib.sha256(content.tobytes()).digest()[:8], "little")
    atoms.positions = atoms.positions + np.random.default_rng(seed).normal(0.0, stdev, atoms.positions.shape)


def relax_many(
    structures: list[Atoms],
    backend: BackendConfig,
    config: RelaxConfig | None = None,
    *,
    calculator=None,
    progress=None,
    frames: int = 0,
) -> list[EnergyResult]:
    """Relax every structure; one result each, in order.

    `calculator`: an ASE calculator (or atoms -> calculator) to use instead of `backend`'s.
    `progress(n)` is called with the number of structures that just finished.
    `frames`: keep that many structures of each successful relaxation's path in `info["frames"]` (see `path_frames`).
    """
    from sccop.backends import make_evaluator

    config = config or RelaxConfig()
    evaluate = make_evaluator(backend, calculator)
    results: list[EnergyResult | None] = [None] * len(structures)
    active: dict[int, dict] = {}
    for i, atoms in enumerate(structures):
        atoms = atoms.copy()
        atoms.calc = None
        if config.rattle > 0 and not config.fix_symmetry:
            rattle(atoms, config.rattle)
        problem = structure_problem(atoms, config)
        if problem:
            results[i] = failed(atoms, f"overlapping atoms before the call ({problem})")
            continue
        try:
            target, opt = _prepare(atoms, config)
        except Exception as exc:  # noqa: BLE001 - e.g. FixSymmetry failing on a broken cell
            from sccop.errors import SccopInputError

            if isinstance(exc, SccopInputError):
                raise
            results[i] = failed(atoms, describe_error(exc))
            continue
        # `used`: seconds of backend calls charged to this structure; its time limit counts only those,
        # so waiting in lockstep for other structures does not use it up.
        active[i] = {"atoms": atoms, "target": target, "opt": opt, "v0": cell_size(atoms),
                     "reference": energy_reference(atoms, backend, calculator),
                     "used": 0.0, "t0": time.perf_counter(), "steps": 0, "path": []}
    done = sum(r is not None for r in results)
    if progress and done:
        progress(done)

    def finish(i: int, result: EnergyResult) -> None:
        nonlocal done
        result.seconds = time.perf_counter() - active[i]["t0"]
        result.steps = active[i]["steps"]
        result.atoms.set_constraint()  # FixSymmetry belongs to the relaxation, not to the structure
        results[i] = result
        del active[i]
        done += 1
        if progress:
            progress(1)

    def advance(i: int, atoms: Atoms, value, spent: float) -> None:
        """One structure's turn after an evaluator call: finish it (failed or converged) or take its step."""
        state = active[i]
        state["used"] += spent
        if isinstance(value, TimeoutError):
            finish(i, failed(atoms, f"timeout after {backend.timeout_s:g} s"))
            return
        if isinstance(value, BaseException):
            finish(i, failed(atoms, describe_error(value)))
            return
        problem = values_problem(value)
        if problem:
            finish(i, failed(atoms, problem))
            return
        # A hole ends the relaxation at once; a high energy only at its end (a crowded start relaxes down).
        problem = energy_problem(value["energy"], len(atoms), state["reference"], config, above=False)
        if problem:
            finish(i, failed(atoms, problem, energy=value["energy"]))
            return
        _attach(atoms, value)
        if frames:
            state["path"].append((float(value["energy"]), atoms.cell.array.copy(), atoms.positions.copy()))
        target, opt = state["target"], state["opt"]
        gradient = target.get_forces().ravel() if hasattr(target, "get_forces") else None
        fmax = np.sqrt((gradient.reshape(-1, 3) ** 2).sum(axis=1).max()) if gradient is not None and len(gradient) else 0.0
        if fmax < config.fmax or state["steps"] >= config.steps:
            problem = bond_problem(atoms, config.min_bond_ratio) or energy_problem(
                value["energy"], len(atoms), state["reference"], config)
            if problem:  # e.g. a potential's runaway collapse, far below every real structure
                finish(i, failed(atoms, problem, energy=value["energy"], converged=fmax < config.fmax))
                return
            result = EnergyResult(status=OK, atoms=atoms, energy=value["energy"], forces=value["forces"],
                                  stress=value.get("stress"), converged=fmax < config.fmax)
            if config.pressure and atoms.pbc.all():
                from ase.units import GPa

                result.info["enthalpy"] = value["energy"] + config.pressure * GPa * atoms.get_volume()
            if frames:  # frames become training labels: none above the guard's ceiling (a crowded start on its way down)
                path = [p for k, p in enumerate(state["path"])
                        if k == 0 or not energy_problem(p[0], len(atoms), state["reference"], config)]
                result.info["frames"] = path_frames(path, frames)
            finish(i, result)
            return
        if state["used"] > backend.timeout_s:
            finish(i, failed(atoms, f"timeout after {backend.timeout_s:g} s", energy=value["energy"]))
            return
        try:
            opt.step()
        except (np.linalg.LinAlgError, FloatingPointError) as exc:  # e.g. BFGS's Hessian after a step that left the forces unchanged
            finish(i, failed(atoms, f"optimizer step failed: {type(exc).__name__}: {exc}", energy=value["energy"]))
            return
        state["steps"] += 1
        problem = structure_problem(atoms, config, state["v0"])
        if problem:
            finish(i, failed(atoms, problem))

    batched = _is_batched(backend, calculator)
    # The optimizer and the cell filter work on 3x3 and 3N-vector arrays: more BLAS threads only add their start-up
    # and, on shared cores, their waits (FrechetCellFilter's expm_frechet ran 25x slower on two busy cores).
    threads = ThreadpoolController() if config.blas_threads else None
    while active:
        ids = list(active)
        batch = [active[i]["atoms"] for i in ids]
        budgets = [backend.timeout_s - active[i]["used"] for i in ids]
        values, seconds = _evaluate_guarded(evaluate, batch, ids, budgets, batched)
        with threads.limit(limits=config.blas_threads, user_api="blas") if threads else nullcontext():
            for i, atoms, value, spent in zip(ids, batch, values, seconds):
                advance(i, atoms, value, spent)
    return results  # type: ignore[return-value]


def path_frames(path: list, count: int) -> list[dict]:
    """`count` structures of a relaxation path [(energy eV, cell, positions) per evaluation], evenly spaced
    over the steps after the start (the start is the structure that was submitted), the last one (the relaxed
    structure) included; JSON-able {energy, cell, positions}. A path with no step gives none."""
    if len(path) < 2 or count < 1:
        return []
    picks = np.unique(np.round(np.linspace(len(path) - 1, 1, min(count, len(path) - 1))).astype(int))
    return [{"energy": path[k][0], "cell": path[k][1].tolist(), "positions": path[k][2].tolist()} for k in picks]


def relax(atoms: Atoms, backend: BackendConfig, config: RelaxConfig | None = None, *, calculator=None) -> EnergyResult:
    """Relax one structure (see relax_many)."""
    return relax_many([atoms], backend, config, calculator=calculator)[0]
