"""Random symmetric search: resume after a kill, the evaluation budget, changed settings."""

from dataclasses import replace

import pytest

from sccop.calls.store import Store
from sccop.errors import SccopInputError


class Interrupt(BaseException):
    pass


def test_interrupted_random_search_resumes_without_repeating_a_call(tmp_path, monkeypatch, bench_config):
    import sccop.calls.ledger as ledger
    from sccop.baseline import random_search

    config = replace(bench_config, search=replace(bench_config.search, chunk=3))
    config = type(config)(**{**config.__dict__, "composition": "Cu", "atoms": "1"})
    reference = random_search(config, tmp_path / "whole", budget_calls=9)
    real = ledger.relax_many
    relaxed: list[int] = []

    def dying(structures, *a, **kw):
        if len(relaxed) >= 6:
            raise Interrupt  # killed during the third chunk: nothing of it is written
        relaxed.extend([1] * len(structures))
        return real(structures, *a, **kw)

    monkeypatch.setattr(ledger, "relax_many", dying)
    with pytest.raises(Interrupt):
        random_search(config, tmp_path / "cut", budget_calls=9)
    assert len(Store(tmp_path / "cut" / "random.db")) == 6
    relaxed.clear()
    monkeypatch.setattr(ledger, "relax_many", lambda s, *a, **kw: (relaxed.extend([1] * len(s)), real(s, *a, **kw))[1])
    resumed = random_search(config, tmp_path / "cut", budget_calls=9)
    assert len(relaxed) == 3 and resumed.calls == 9  # only the missing chunk ran
    assert resumed.best_energy == pytest.approx(reference.best_energy)
    uids = sorted(r.uid for r in Store(tmp_path / "cut" / "random.db").rows())
    assert uids == sorted(r.uid for r in Store(tmp_path / "whole" / "random.db").rows())
    # Other settings on the same folder are refused.
    other = type(config)(**{**config.__dict__, "seed": 5})
    with pytest.raises(SccopInputError, match="seed: 1 -> 5"):
        random_search(other, tmp_path / "cut", budget_calls=9)


def test_random_search_stops_at_an_evaluation_budget(tmp_path, bench_config):
    from sccop.baseline import random_search

    config = replace(bench_config, search=replace(bench_config.search, chunk=4))
    config = type(config)(**{**config.__dict__, "composition": "Cu", "atoms": "2"})
    random_search(config, tmp_path / "e", budget_evaluations=40)
    rows = sorted(Store(tmp_path / "e" / "random.db").rows(backend_call=1), key=lambda r: r.calls)
    spent = [1 + r.steps for r in rows]
    # It stops at the first chunk that reaches the budget: without its last chunk (at most 4) it was short.
    assert sum(spent) >= 40 and sum(spent[:-4]) < 40
    # The same draws as a run by calls: structure I depends on (seed, I) alone.
    random_search(config, tmp_path / "c", budget_calls=len(rows))
    same = sorted(Store(tmp_path / "c" / "random.db").rows(backend_call=1), key=lambda r: r.calls)
    assert [r.energy_per_atom for r in same] == pytest.approx([r.energy_per_atom for r in rows], abs=1e-6)
