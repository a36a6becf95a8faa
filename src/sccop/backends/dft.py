"""DFT backends through ASE calculators: Quantum ESPRESSO (pw.x), VASP and GPAW.

Each structure gets its own calculation folder. Before anything runs, the binary, pseudopotentials
and settings are checked, and a missing piece raises BackendUnavailable with a reason that names it.
External programs run under coreutils `timeout`, so a stuck code is killed at the backend's limit.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
from pathlib import Path

from sccop.backends import BackendUnavailable

DEBIAN_PSEUDO_DIR = "/usr/share/espresso/pseudo"
LAUNCHERS = {"mpirun", "mpiexec", "srun", "timeout", "nice", "taskset"}


def check_command(command: str, what: str) -> list[str]:
    """Split `command` and make sure its program (and the program a launcher starts) is on PATH."""
    words = shlex.split(command)
    if not words:
        raise BackendUnavailable(f"empty {what} command")
    programs = [words[0]]
    if Path(words[0]).name in LAUNCHERS:
        programs.append(next((w for w in reversed(words) if not w.startswith("-")), words[0]))
    for program in programs:
        if shutil.which(program) is None:
            raise BackendUnavailable(f"{what} binary {program!r} not found on PATH")
    return words


def pseudo_dir(config) -> Path:
    return Path(config.pseudo_dir or os.environ.get("ESPRESSO_PSEUDO") or DEBIAN_PSEUDO_DIR)


def choose_pseudopotential(element: str, directory: Path) -> str:
    """A UPF file for `element` in `directory`, preferring PBE (not PBEsol, not fully relativistic)."""
    if not directory.is_dir():
        raise BackendUnavailable(f"pseudopotential directory {directory} does not exist")
    names = sorted(p.name for p in directory.iterdir() if p.is_file())
    mine = [n for n in names if re.match(rf"^{element}([._-]|$)", n, flags=re.IGNORECASE) and n.lower().endswith(".upf")]
    if not mine:
        raise BackendUnavailable(f"no pseudopotential for {element} in {directory}")

    def rank(name: str) -> tuple[int, str]:
        low = name.lower()
        if ".pbe" in low and "pbesol" not in low and "rel-" not in low:
            return (0, name)
        if "pbe" in low and "pbesol" not in low:
            return (1, name)
        return (2, name)

    return min(mine, key=rank)


def calculation_dir(config) -> str:
    parent = config.workdir
    if parent:
        Path(parent).mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix="sccop-dft-", dir=parent)


def _timed(words: list[str], config) -> str:
    """The command under coreutils timeout (SIGTERM at the limit, SIGKILL 10 s later)."""
    limit = max(1, int(config.timeout_s))
    return shlex.join(["timeout", "--kill-after=10", str(limit), *words])


def espresso(config, atoms):
    from ase.calculators.espresso import Espresso, EspressoProfile

    words = check_command(config.espresso_command, "Quantum ESPRESSO")
    directory = pseudo_dir(config)
    chosen = dict(config.pseudopotentials)
    pseudos = {}
    for element in sorted(set(atoms.get_chemical_symbols())):
        name = chosen.get(element) or choose_pseudopotential(element, directory)
        if not (directory / name).is_file():
            raise BackendUnavailable(f"pseudopotential {name} for {element} not found in {directory}")
        pseudos[element] = name
    profile = EspressoProfile(command=_timed(words, config), pseudo_dir=str(directory))
    input_data = {
        "control": {"calculation": "scf", "tprnfor": True, "tstress": True, "disk_io": "low"},
        "system": {
            "ecutwfc": config.ecutwfc,
            "ecutrho": config.ecutrho or 8 * config.ecutwfc,
            "occupations": "smearing",
            "smearing": "mv",
            "degauss": config.smearing,
        },
        "electrons": {"conv_thr": 1e-8 * len(atoms), "mixing_beta": 0.4},
    }
    return Espresso(
        profile=profile,
        directory=calculation_dir(config),
        pseudopotentials=pseudos,
        input_data=input_data,
        kspacing=config.kspacing / (2 * 3.141592653589793),  # ASE's kspacing leaves out the 2 pi
    )


def vasp(config, atoms):
    from ase.calculators.vasp import Vasp

    command = config.vasp_command or os.environ.get("ASE_VASP_COMMAND") or os.environ.get("VASP_COMMAND")
    if not command:
        raise BackendUnavailable("no VASP command: set vasp_command or $ASE_VASP_COMMAND")
    words = check_command(command, "VASP")
    pp_path = config.vasp_pp_path or os.environ.get("VASP_PP_PATH")
    if not pp_path or not Path(pp_path).is_dir():
        raise BackendUnavailable("no VASP pseudopotential folder: set vasp_pp_path or $VASP_PP_PATH")
    for element in set(atoms.get_chemical_symbols()):
        if not any((Path(pp_path) / d / element / "POTCAR").is_file() for d in ("potpaw_PBE", "potpaw_pbe")):
            raise BackendUnavailable(f"no POTCAR for {element} under {pp_path}/potpaw_PBE")
    os.environ["VASP_PP_PATH"] = str(pp_path)
    return Vasp(
        command=_timed(words, config),
        directory=calculation_dir(config),
        xc="PBE",
        encut=config.encut,
        kspacing=config.kspacing,
        ismear=0,
        sigma=0.05,
        ediff=1e-6,
        lwave=False,
        lcharg=False,
    )


DEBIAN_GPAW_SETUPS = "/usr/share/gpaw-setups"
RYDBERG_EV = 13.605693122994


def gpaw_setup_dirs(config) -> list[Path]:
    """Where GPAW's PAW setups are looked for: the backend's gpaw_setup_path, else $GPAW_SETUP_PATH (both
    colon separated), else GPAW's own (the gpaw-data wheel) and Debian's gpaw-data folder."""
    given = config.gpaw_setup_path or os.environ.get("GPAW_SETUP_PATH")
    if given:
        return [Path(d) for d in given.split(os.pathsep) if d]
    try:
        from gpaw import setup_paths
    except ImportError:
        setup_paths = []
    return [Path(d) for d in setup_paths] + [Path(DEBIAN_GPAW_SETUPS)]


def gpaw_setup(element: str, directories: list[Path]) -> Path:
    """The PBE setup file of `element` (Na.PBE.gz, not Na.1.PBE.gz, which is another valence)."""
    for d in directories:
        for name in (f"{element}.PBE.gz", f"{element}.PBE"):
            if (d / name).is_file():
                return d / name
    raise BackendUnavailable(f"no GPAW PBE setup for {element} in {os.pathsep.join(map(str, directories))} "
                             f"(Debian: apt-get install gpaw-data; or set gpaw_setup_path)")


def gpaw(config, atoms):
    """GPAW in plane-wave mode, PBE, with the same cut-off (ecutwfc, Ry), k-point spacing and
    Marzari-Vanderbilt smearing as the Quantum ESPRESSO backend; the setups of every element are checked
    first (after the package: without it, missing setups are not the problem to name)."""
    try:
        from gpaw import GPAW, PW, setup_paths
    except ImportError:
        raise BackendUnavailable("gpaw is not installed (pip install gpaw against Debian's libxc-dev and "
                                 "libopenblas-dev; setups from gpaw-data)") from None
    directories = gpaw_setup_dirs(config)
    for element in sorted(set(atoms.get_chemical_symbols())):
        gpaw_setup(element, directories)
    for d in reversed(directories):
        if d not in map(Path, setup_paths):
            setup_paths.insert(0, str(d))
    folder = calculation_dir(config)
    return GPAW(
        mode=PW(config.ecutwfc * RYDBERG_EV),
        xc="PBE",
        kpts={"density": 1.0 / config.kspacing, "gamma": True},  # density: points per 1/A (2 pi included)
        occupations={"name": "marzari-vanderbilt", "width": config.smearing * RYDBERG_EV},
        convergence={"energy": 1e-6},
        txt=str(Path(folder) / "gpaw.txt"),
    )


def calculator(backend: str, config, atoms):
    if atoms is None:
        raise ValueError("DFT calculators are built per structure: pass atoms")
    return {"espresso": espresso, "vasp": vasp, "gpaw": gpaw}[backend](config, atoms)


def scf_converged(calc) -> bool | None:
    """False when Quantum ESPRESSO reported an unconverged SCF in its output, None when unknown."""
    out = Path(getattr(calc, "directory", "")) / "espresso.pwo"
    if not out.is_file():
        return None
    return "convergence NOT achieved" not in out.read_text(errors="replace")
