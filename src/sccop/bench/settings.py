"""A bench's settings: which methods, what budget, where the references are; each row's config; and
the record in DIR/bench.json that a resumed bench must match."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from sccop.allowed import Allowed, integer, number, text
from sccop.bench.table import BenchRow
from sccop.config import (
    ExecutionConfig,
    RunConfig,
    SearchConfig,
    Section,
    describe_differences,
    setting,
    setting_differences,
    to_dict,
    with_new_defaults,
)
from sccop.errors import SccopInputError

METHODS = ("sccop", "random")
DEFAULT_CALLS = 150


@dataclass(frozen=True)
class BenchSettings(Section):
    """What `sccop bench` runs on each row of its table."""

    NAME = "bench"

    methods: tuple[str, ...] = setting(METHODS, "Methods run on every row: sccop, random or both.",
                                  allowed=Allowed("strs", choices=METHODS, nonempty=True))
    budget_calls: int | None = setting(None, f"Backend calls per row and method (default {DEFAULT_CALLS}).",
                                  allowed=integer(1, 10**7, optional=True))
    budget_minutes: float | None = setting(None, "Minutes per row and method.", allowed=number(0.0, 10**7, above=True, optional=True))
    workers: int = setting(1, "Row-method pairs run at once on a local Dask cluster.", allowed=integer(1, 256))
    cif_dir: str | None = setting(None, "Folder of the reference CIFs (read only to score).", allowed=text(optional=True))
    random_evaluations: float | None = setting(
        None,
        "Random search's budget per row: this many times the energy-and-force evaluations of the row's sccop pair "
        "(1: both methods spend the same); None: the budget above, as sccop's.",
        allowed=number(0.0, 1000.0, above=True, optional=True),
    )

    def budget(self) -> tuple[int | None, float | None]:
        if self.budget_calls is None and self.budget_minutes is None:
            return DEFAULT_CALLS, None
        return self.budget_calls, self.budget_minutes


def check(settings: BenchSettings, base: RunConfig) -> None:
    """Refuse settings that cannot run, before anything is written (each field was checked alone when the
    settings were built)."""
    if base.refine.rerank:
        from sccop.backends import parse_backend

        parse_backend(base.refine.rerank)
    if settings.cif_dir and not Path(settings.cif_dir).is_dir():
        raise SccopInputError(f"--cif-dir {settings.cif_dir} is not a folder")


def row_config(base: RunConfig, row: BenchRow, settings: BenchSettings) -> RunConfig:
    """The base config for one row: its composition, exactly `nsites` atoms, the bench budget."""
    calls, minutes = settings.budget()
    train = base.train if settings.workers <= 1 else replace(base.train, threads=1)  # cores are shared
    # The budget is what stops both methods: no round limit or convergence stop for the search.
    search = replace(base.search or SearchConfig(), budget_calls=calls, budget_minutes=minutes, rounds=10**6,
                     patience=10**6)
    return replace(base, composition=row.formula, atoms=str(row.nsites), formula_units=None, search=search,
                   train=train, execution=ExecutionConfig())  # each pair runs in its own (worker) process


def refine_key(config: RunConfig) -> str:
    """The refinement settings and ranking rules a result was scored with (a change to either is scored
    again)."""
    from sccop.answer import ranking

    return json.dumps({**asdict(config.refine), "ranking_version": ranking.RANKING_VERSION}, sort_keys=True)


def bench_record(base: RunConfig, settings: BenchSettings) -> dict:
    """What DIR/bench.json keeps: the base config less what a row sets and less the refinement (which may
    change: finished pairs are then refined and scored again), and the budget."""
    calls, minutes = settings.budget()
    recorded = to_dict(replace(base, composition=None, atoms=None, formula_units=None))
    recorded.pop("refine", None)
    record = {"config": recorded, "budget_calls": calls, "budget_minutes": minutes, "cif_dir": settings.cif_dir}
    if settings.random_evaluations is not None:  # recorded only when set: older folders resume unchanged
        record["random_evaluations"] = settings.random_evaluations
    return record


def check_record(out: Path, record: dict, force: bool) -> None:
    """Refuse a bench folder made with other settings (unless `force`), then write DIR/bench.json."""
    path = out / "bench.json"
    if path.exists() and not force:
        old = json.loads(path.read_text())
        if isinstance(old.get("config"), dict):  # settings added since count at their defaults
            old["config"] = with_new_defaults(old["config"])
        changes = describe_differences(setting_differences(old, record))
        if changes:
            raise SccopInputError(f"{out} was benchmarked with other settings ({'; '.join(changes)}); "
                                  "use another --out, or --force to go on with the new ones")
    from sccop.calls.rundir import write_text

    write_text(path, json.dumps(record, indent=1, sort_keys=True))


__all__ = ["METHODS", "DEFAULT_CALLS", "BenchSettings", "check", "row_config", "refine_key", "bench_record",
           "check_record"]
