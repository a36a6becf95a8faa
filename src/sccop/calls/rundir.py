"""A run's folder: one process at a time (DIR/.lock), its settings (DIR/config.toml), its clock, and how
files are written there.

A run folder is data, never code: `exclusive` is taken before anything else is written to DIR (a second
command on a live folder stops at once and changes nothing), a folder holding a symbolic link is refused
(sccop deletes and rewrites files in DIR/best and elsewhere, and must never reach another folder
through a link), and every file is written whole, then renamed (`atomic`), so a kill never leaves half
a file.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

from sccop.config import RunConfig, config_changes, from_dict, to_dict, with_new_defaults
from sccop.errors import SccopInputError


@contextmanager
def exclusive(folder: str | Path, what: str):
    """Hold DIR/.lock while `what` (e.g. "a search") writes DIR: a second process on the same DIR gets an
    SccopInputError at once instead of writing the same rows beside the first. The lock (fcntl.flock) goes
    with the process, so a killed run leaves nothing to clean up. DIR is created when missing."""
    import fcntl

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise SccopInputError(f"{folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SccopInputError(f"cannot make {folder}: {exc.strerror or exc}") from None
    refuse_links(folder)
    path = folder / ".lock"
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise SccopInputError(f"{folder} is in use by {holder}; wait for it or use another --out") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{what} (process {os.getpid()})")
        fh.flush()
        try:
            yield
        finally:
            fh.truncate(0)
            fcntl.flock(fh, fcntl.LOCK_UN)


def refuse_links(folder: Path) -> None:
    """SccopInputError when anything inside `folder` (or the folder itself) is a symbolic link."""
    if folder.is_symlink():
        raise SccopInputError(f"{folder} is a symbolic link; give sccop a real folder")
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            if os.path.islink(os.path.join(root, name)):
                raise SccopInputError(f"{os.path.join(root, name)} is a symbolic link; sccop writes only into "
                                      "folders it made: remove the link, or use a new --out")


@contextmanager
def atomic(path: str | Path):
    """Yield a temporary name beside `path` (same suffix, so writers that go by it still do); on success
    it becomes `path` in one rename, on failure it is removed."""
    path = Path(path)
    partial = path.with_name(f".{path.stem}.part{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()


def write_text(path: str | Path, text: str) -> None:
    """Write a text file whole, then rename (see `atomic`)."""
    with atomic(path) as partial:
        partial.write_text(text)


def load_config(path: str | Path) -> dict:
    """A TOML config file as a dict (errors name the file)."""
    import tomllib

    path = Path(path)
    if not path.exists():
        raise SccopInputError(f"config file {path} does not exist")
    if not path.is_file():
        raise SccopInputError(f"config file {path} is not a file")
    try:
        return tomllib.loads(path.read_text())
    except UnicodeDecodeError:
        raise SccopInputError(f"config file {path} is not a text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SccopInputError(f"config file {path} is not valid TOML: {exc}") from None


def read_settings(out: str | Path, writing: bool = False) -> RunConfig:
    """The settings of the run in folder `out` (its config.toml, fields added since at their defaults).
    `writing`: the caller writes into `out`, so a folder holding a symbolic link is refused before reading."""
    out = Path(out)
    if not (out / "config.toml").exists():
        raise SccopInputError(f"{out} holds no search (no config.toml)")
    if writing:
        refuse_links(out)
    return from_dict(with_new_defaults(load_config(out / "config.toml")))


def check_settings(config: RunConfig, out: Path, force: bool) -> None:
    """Refuse a config that differs from the one DIR/config.toml holds (unless `force`; a changed
    `label_with` always: its trained models and seeded samples belong to the other kind of label)."""
    path = out / "config.toml"
    if not path.exists():
        return
    try:
        stored = load_config(path)
    except SccopInputError as exc:
        raise SccopInputError(f"{exc}; the run's settings are lost: restore the file, or use a new --out") from None
    changes = config_changes(stored, to_dict(config))
    earlier = with_new_defaults(stored)
    for section in ("search", "units"):
        old, new = earlier.get(section, {}).get("label_with"), getattr(config, section).label_with
        if old is not None and old != new:  # a section the folder's version lacked is not compared
            raise SccopInputError(f"{out} holds a search with other labels ({section}.label_with: {old!r} -> {new!r}), "
                                  f"which --force cannot change; set [{section}] label_with = {old!r} to resume it, "
                                  "or use a new --out")
    if changes and not force:
        raise SccopInputError(
            f"{out} holds a search with different settings ({'; '.join(changes)}); "
            "use the same settings to resume, a new --out, or --force to continue with the new ones"
        )


def write_settings(config: RunConfig, out: Path) -> None:
    """DIR/config.toml: the resolved config (written whole, then renamed; not rewritten when unchanged)."""
    import tomli_w

    text = tomli_w.dumps(to_dict(config))
    path = out / "config.toml"
    if path.exists() and path.read_text() == text:
        return
    write_text(path, text)


@contextmanager
def run_log(folder: Path):
    """Append the run's INFO log (every module's, logger "sccop") to DIR/sccop.log while the block runs; a
    resumed run adds to it. The console keeps whatever level it had."""
    import logging

    logger = logging.getLogger("sccop")
    handler = logging.FileHandler(folder / "sccop.log", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"))
    old_level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        handler.close()


@contextmanager
def run_folder(config: RunConfig, out: Path, force: bool, mode: str | None = None):
    """DIR taken for a run, in order: its lock, the settings checked against DIR/config.toml and written,
    the log, the store (the config, version and `mode` in its metadata) and an executor, closed at the end.
    Yields (store, executor)."""
    from sccop.calls.execution import make_executor
    from sccop.calls.store import open_store

    with exclusive(out, "a search"):
        check_settings(config, out, force)
        write_settings(config, out)
        with run_log(out):
            store = open_store(out, config)
            store.update_metadata(config=to_dict(config), version=program_version(), **({"mode": mode} if mode else {}))
            executor = make_executor(config.execution)
            try:
                yield store, executor
            finally:
                executor.close()


def program_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sccop")
    except PackageNotFoundError:
        return "unknown"


class Clock:
    """A run's minutes, summed over its resumed runs (`previous_seconds` from the database metadata)."""

    def __init__(self, previous_seconds: float = 0.0):
        self.previous = float(previous_seconds)
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return self.previous + time.perf_counter() - self.start

    def minutes(self) -> float:
        return self.seconds() / 60.0


__all__ = ["exclusive", "refuse_links", "atomic", "write_text", "load_config", "read_settings", "check_settings", "write_settings",
           "run_log", "program_version", "Clock"]
