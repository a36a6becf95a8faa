"""Write sccop's table of element reference energies (src/sccop/backends/element_energies.json).

The numbers are CHGNet 0.3.0's AtomRef: the per-element energies (eV/atom) of the linear composition
model that CHGNet fitted to the Materials Project trajectory set (MPtrj, PBE/PBE+U) and subtracts before
its graph network. They ship inside CHGNet's wheel; this script only copies them out, so that the energy
guard of sccop.relaxation can use them without loading a model. Run it again if CHGNet's default model
changes:

    python scripts/element_energies.py
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "sccop" / "backends" / "element_energies.json"


def main() -> None:
    from ase.data import chemical_symbols

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        from chgnet.model import CHGNet

        model = CHGNet.load(verbose=False)
    weights = model.composition_model.fc.weight.detach().cpu().numpy().ravel()
    table = {
        "source": f"CHGNet {model.version} AtomRef (composition model fitted to MPtrj), eV/atom; "
                  "written by scripts/element_energies.py",
        "energies": {chemical_symbols[z]: round(float(w), 4) for z, w in enumerate(weights, start=1)},
    }
    OUT.write_text(json.dumps(table, indent=1) + "\n")
    print(f"{len(table['energies'])} elements -> {OUT}")


if __name__ == "__main__":
    main()
