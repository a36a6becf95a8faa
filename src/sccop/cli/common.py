"""What every subcommand checks the same way: its output path and its numeric options."""

from __future__ import annotations

from pathlib import Path

from sccop.allowed import Allowed
from sccop.errors import SccopInputError


def output_path(text: str | None, option: str = "--out") -> Path:
    """The path an option names; an empty one would write into the current folder and is refused."""
    if text is None or not str(text).strip():
        raise SccopInputError(f"{option} is empty: give a path")
    return Path(text)


def checked(args, **options: Allowed) -> None:
    """Check command-line options against what they may hold (the value keeps its place in `args`)."""
    for name, allowed in options.items():
        setattr(args, name, allowed.check(getattr(args, name), "--" + name.replace("_", "-")))


def backend_settings(path: str | None, command: str) -> dict:
    """The [backend] settings of a user's TOML file (every one checked), for commands that compute on a
    finished run with the user's backend (phonons, verify); other sections are refused. {} without a file."""
    from sccop.calls.rundir import load_config
    from sccop.config import BackendConfig, from_dict

    if not path:
        return {}
    data = load_config(path)
    unknown = sorted(set(data) - {"backend"})
    if unknown:
        raise SccopInputError(f"{path}: sccop {command} reads only [backend], not {', '.join(unknown)}")
    from_dict({"backend": data.get("backend", {})})  # every setting checked
    return {k: v for k, v in data.get("backend", {}).items() if k in BackendConfig.__dataclass_fields__}


__all__ = ["output_path", "checked", "backend_settings"]


def add_cell_size(p) -> None:
    """The cell-size options that search, sample and predict-groups share: --atoms or --formula-units."""
    from sccop.config import DEFAULT_CELL

    size = p.add_mutually_exclusive_group()
    size.add_argument("--atoms", help=f"atoms per primitive cell, N or A-B (default: {DEFAULT_CELL})")
    size.add_argument("--formula-units", help="formula units per primitive cell, N or A-B")
