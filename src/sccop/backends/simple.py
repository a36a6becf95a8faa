"""Cheap stand-ins and the one-structure-at-a-time evaluator used by every non-batched backend."""

from __future__ import annotations

import numpy as np


def lennard_jones(atoms=None):
    """A tiny Lennard-Jones calculator (sigma 2 A, epsilon 0.1 eV, cutoff 6 A): a test stand-in."""
    from ase.calculators.lj import LennardJones

    return LennardJones(sigma=2.0, epsilon=0.1, rc=6.0, smooth=True)


def properties_of(atoms, calc) -> dict:
    """Energy, forces and stress of `atoms` from `calc` (stress omitted where the calculator has none)."""
    atoms.calc = calc
    out = {"energy": float(atoms.get_potential_energy()), "forces": np.array(atoms.get_forces())}
    try:
        out["stress"] = np.array(atoms.get_stress(voigt=True))
    except Exception as exc:  # noqa: BLE001 - calculators signal missing stress in several ways
        from ase.calculators.calculator import PropertyNotImplementedError

        if not isinstance(exc, (PropertyNotImplementedError, NotImplementedError)):
            raise
    return out


class ScfNotConverged(RuntimeError):
    """The DFT code stopped without a converged self-consistent field."""


def sequential_evaluator(config, calculator=None):
    """Evaluate structures one by one with a calculator of `config`; a failure becomes that entry's Exception.

    `keys` (optional, one per structure) keep one calculator per key across calls, so a relaxation reuses
    its DFT calculation folder from step to step. `calculator` (an ASE calculator, or a function
    atoms -> calculator) replaces the backend registry.
    """
    from sccop.backends import make_calculator
    from sccop.backends.dft import scf_converged

    calculators: dict = {}

    def evaluate(structures, keys=None):
        results = []
        for n, atoms in enumerate(structures):
            calc = None
            try:
                key = keys[n] if keys is not None else None
                calc = calculators.get(key) if key is not None else None
                if calc is None:
                    if calculator is None:
                        calc = make_calculator(config, atoms)
                    else:
                        calc = calculator(atoms) if callable(calculator) and not hasattr(calculator, "calculate") else calculator
                    if key is not None:
                        calculators[key] = calc
                props = properties_of(atoms.copy(), calc)
                if scf_converged(calc) is False:
                    raise ScfNotConverged("SCF not converged")
                results.append(props)
            except Exception as exc:  # noqa: BLE001 - failures are data, recorded with their reason
                if not isinstance(exc, ScfNotConverged) and calc is not None and scf_converged(calc) is False:
                    exc = ScfNotConverged("SCF not converged")
                results.append(exc)
        return results

    return evaluate
