"""Energy backends behind ASE's Calculator interface.

`Backend` names them; `make_calculator(config)` returns an ASE calculator (ML models are loaded once per
process) and `make_evaluator(config)` returns a function that fills energies, forces and stresses for a
list of Atoms, batched where the backend can batch. Heavy imports happen only when a backend is used.
"""

from __future__ import annotations

from enum import StrEnum

from sccop.config import BackendConfig
from sccop.errors import SccopInputError


class Backend(StrEnum):
    """The energy backends (their names are sccop.config.BACKEND_NAMES, what a config may hold)."""

    CHGNET = "chgnet"
    SEVENNET = "sevennet"
    EMT = "emt"
    LJ = "lj"
    ESPRESSO = "espresso"
    VASP = "vasp"
    GPAW = "gpaw"
    ASE = "ase"  # an ASE calculator given from Python (sccop.search(..., calculator=...))

    @property
    def is_ml(self) -> bool:
        return self in (Backend.CHGNET, Backend.SEVENNET)

    @property
    def is_dft(self) -> bool:
        return self in (Backend.ESPRESSO, Backend.VASP, Backend.GPAW)


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (missing binary, pseudopotential or package); the reason says which."""


def parse_backend(name: str) -> Backend:
    try:
        return Backend(str(name).lower())
    except ValueError:
        known = ", ".join(b.value for b in Backend)
        raise SccopInputError(f"unknown backend {name!r} (known: {known})") from None


def make_calculator(config: BackendConfig, atoms=None):
    """An ASE calculator for `config`. DFT calculators are built per structure (pass `atoms`)."""
    backend = parse_backend(config.name)
    if backend is Backend.ASE:
        raise SccopInputError(f"this run's energies come from an ASE calculator given from Python "
                              f"({config.calculator or 'unnamed'}); give that calculator again, or choose a backend")
    if backend is Backend.EMT:
        from ase.calculators.emt import EMT

        return EMT()
    if backend is Backend.LJ:
        from sccop.backends.simple import lennard_jones

        return lennard_jones(atoms)
    if backend.is_ml:
        from sccop.backends import ml

        return ml.calculator(backend.value, config)
    from sccop.backends import dft

    return dft.calculator(backend.value, config, atoms)


def make_evaluator(config: BackendConfig, calculator=None):
    """A function list[Atoms] -> list[dict | Exception] of energy (eV), forces (eV/A), stress (Voigt, eV/A^3).

    `calculator`: any ASE calculator (or a function atoms -> calculator) to use instead of the registry.
    """
    from sccop.backends.simple import sequential_evaluator

    if calculator is not None:
        return sequential_evaluator(config, calculator)
    backend = parse_backend(config.name)
    if backend.is_ml and config.batch_size > 1:
        from sccop.backends import ml

        return ml.batch_evaluator(backend.value, config)
    return sequential_evaluator(config)


def supported_numbers(config: BackendConfig) -> set[int] | None:
    """Atomic numbers the backend can treat (None: any, or only the backend itself can tell)."""
    backend = parse_backend(config.name)
    if backend is Backend.EMT:
        from ase.calculators.emt import parameters
        from ase.data import atomic_numbers

        return {atomic_numbers[symbol] for symbol in parameters}
    if backend is Backend.CHGNET:
        return set(range(1, 95))  # CHGNet's element embedding: H to Pu
    if backend is Backend.SEVENNET:
        from sccop.backends import ml

        return set(ml.sevennet_calculator(config.model or ml.SEVENNET_DEFAULT, config.device, config.modal).type_map)
    return None


def element_ranges(numbers) -> str:
    """Atomic numbers as element ranges: 'H-Bi, Ac-Pu'."""
    from ase.data import chemical_symbols

    ranges: list[list[int]] = []
    for z in sorted(numbers):
        if ranges and z == ranges[-1][1] + 1:
            ranges[-1][1] = z
        else:
            ranges.append([z, z])
    return ", ".join(chemical_symbols[a] if a == b else f"{chemical_symbols[a]}-{chemical_symbols[b]}" for a, b in ranges)


def backend_label(config: BackendConfig) -> str:
    """The backend as reports name it: 'chgnet', 'sevennet 7net-l3i5', 'sevennet 7net-mf-0 (PBE)'."""
    label = config.name + (f" {config.model}" if config.model else "")
    return label + (f" ({config.modal})" if config.modal else "")


def check_backend(config: BackendConfig, elements) -> None:
    """Refuse, in one line, a backend that cannot treat every element of `elements` here: one that does not
    know an element, or a DFT code whose binary or pseudopotentials are missing."""
    from ase import Atoms
    from ase.data import atomic_numbers, chemical_symbols

    backend = parse_backend(config.name)
    if backend is Backend.ASE:
        return
    if config.modal and backend is not Backend.SEVENNET:
        raise SccopInputError(f"backend {backend.value} has one fidelity: leave modal unset (it is {config.modal!r})")
    numbers = [atomic_numbers[e] for e in elements]
    try:
        known = supported_numbers(config)
    except ValueError as exc:  # a model's fidelity missing or unknown
        raise SccopInputError(str(exc)) from None
    if known is not None:
        missing = [chemical_symbols[z] for z in numbers if z not in known]
        if missing:
            raise SccopInputError(f"backend {backend_label(config)} cannot treat {', '.join(missing)} "
                                  f"(it knows {element_ranges(known)})")
    if backend.is_dft:
        try:
            make_calculator(config, Atoms(numbers=numbers, cell=[10.0, 10.0, 10.0], pbc=True))
        except BackendUnavailable as exc:
            raise SccopInputError(f"backend {backend.value} is unavailable: {exc}") from None
