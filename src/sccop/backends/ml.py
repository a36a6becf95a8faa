"""Universal ML potentials whose weights ship in their wheels: CHGNet and SevenNet.

Models are loaded once per process (and device). Single structures go through the packages' own ASE
calculators; lists go through batched model calls (`batch_evaluator`), which return the same numbers.
Units follow ASE: energy eV, forces eV/A, stress Voigt eV/A^3 (positive = tensile, as ASE).
"""

from __future__ import annotations

import copy
import warnings
from functools import lru_cache

import numpy as np

SEVENNET_DEFAULT = "7net-0"


@lru_cache(maxsize=None)
def chgnet_model(device: str):
    import contextlib
    import io

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        from chgnet.model import CHGNet

        model = CHGNet.load(verbose=False, use_device=device)
    return model


@lru_cache(maxsize=None)
def sevennet_calculator(name: str, device: str, modal: str | None = None):
    """SevenNet's own calculator (it owns the model); one per (model, device, fidelity) per process.

    A multi-fidelity model (7net-mf-0) needs `modal`, one of its fidelities (PBE, R2SCAN); a model with one
    fidelity refuses one, where SevenNet would ignore it, so that no run records a fidelity it did not use.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sevenn.calculator import SevenNetCalculator

        try:
            calc = SevenNetCalculator(name, device=device, modal=modal)
        except ValueError as exc:
            if "modal" not in str(exc):
                raise
            raise ValueError(f"SevenNet {name} is multi-fidelity: {exc}; set the backend's modal") from None
    if modal and calc.modal is None:
        raise ValueError(f"SevenNet {name} has one fidelity: leave modal unset (it is {modal!r})")
    return calc


@lru_cache(maxsize=None)
def _sevennet_batch_model(name: str, device: str, modal: str | None):
    calc = sevennet_calculator(name, device, modal)
    model = copy.deepcopy(calc.model)
    model.set_is_batch_data(True)
    model.eval()
    return model, calc.cutoff, calc.type_map


@lru_cache(maxsize=None)
def chgnet_calculator(device: str):
    import contextlib
    import io

    from chgnet.model import CHGNetCalculator

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return CHGNetCalculator(chgnet_model(device), use_device=device)


def calculator(backend: str, config):
    if backend == "chgnet":
        return chgnet_calculator(config.device)
    if backend == "sevennet":
        return sevennet_calculator(config.model or SEVENNET_DEFAULT, config.device, config.modal)
    raise ValueError(backend)


def batch_evaluator(backend: str, config):
    """list[Atoms] -> list[dict | Exception], `batch_size` structures per model call.

    When a batch fails as a whole (one structure the model cannot handle), its structures are redone one
    by one so the failure stays with the structure that caused it.
    """
    from sccop.backends.simple import sequential_evaluator

    one_by_one = sequential_evaluator(config)
    predict = _chgnet_batch if backend == "chgnet" else _sevennet_batch

    def evaluate(structures, keys=None):
        results = []
        for chunk in chunks(structures, config.batch_size, config.batch_atoms):
            try:
                results.extend(predict(chunk, config))
            except Exception:  # noqa: BLE001 - isolate the structure that broke the batch
                results.extend(one_by_one(chunk))
        return results

    return evaluate


def chunks(structures, most_structures: int, most_atoms: int):
    """Consecutive groups of at most `most_structures` structures and `most_atoms` atoms (a larger
    structure goes alone)."""
    group, atoms = [], 0
    for s in structures:
        if group and (len(group) >= most_structures or atoms + len(s) > most_atoms):
            yield group
            group, atoms = [], 0
        group.append(s)
        atoms += len(s)
    if group:
        yield group


def _chgnet_batch(structures, config) -> list[dict]:
    from ase.stress import full_3x3_to_voigt_6_stress
    from ase.units import GPa
    from pymatgen.io.ase import AseAtomsAdaptor

    model = chgnet_model(config.device)
    pmg = [AseAtomsAdaptor.get_structure(a) for a in structures]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        preds = model.predict_structure(pmg, task="efs", batch_size=len(pmg))
    if isinstance(preds, dict):
        preds = [preds]
    out = []
    for atoms, p in zip(structures, preds):
        out.append(
            {
                "energy": float(p["e"]) * len(atoms),
                "forces": np.asarray(p["f"], dtype=float),
                "stress": full_3x3_to_voigt_6_stress(np.asarray(p["s"], dtype=float)) * GPa,
            }
        )
    return out


def _sevennet_batch(structures, config) -> list[dict]:
    from sevenn import _keys as KEY
    from sevenn.atom_graph_data import AtomGraphData
    from sevenn.train.dataload import unlabeled_atoms_to_graph
    from torch_geometric.data import Batch

    model, cutoff, type_map = _sevennet_batch_model(config.model or SEVENNET_DEFAULT, config.device, config.modal)
    for atoms in structures:
        unknown = set(atoms.get_atomic_numbers().tolist()) - set(type_map)
        if unknown:
            raise ValueError(f"SevenNet does not know atomic numbers {sorted(unknown)}")
    graphs = [AtomGraphData.from_numpy_dict(unlabeled_atoms_to_graph(a, cutoff, with_shift=False)) for a in structures]
    if config.modal:
        for graph in graphs:
            graph[KEY.DATA_MODALITY] = config.modal
    batch = Batch.from_data_list(graphs).to(config.device)
    output = model(batch)
    energies = output[KEY.PRED_TOTAL_ENERGY].detach().cpu().numpy().reshape(-1)
    forces = output[KEY.PRED_FORCE].detach().cpu().numpy()
    stress = (-output[KEY.PRED_STRESS]).detach().cpu().numpy().reshape(len(structures), 6)[:, [0, 1, 2, 4, 5, 3]]
    ptr = batch.ptr.cpu().numpy()
    return [
        {"energy": float(energies[i]), "forces": forces[ptr[i] : ptr[i + 1]].copy(), "stress": stress[i].copy()}
        for i in range(len(structures))
    ]
