"""Random search's expected scores from its own relaxations, checked against enumeration of small pools."""

from itertools import combinations, permutations, product

import numpy as np
import pytest

from sccop.bench.resample import (
    Relaxation,
    expected_count,
    expected_first_hit,
    read_pool,
    top1_chance,
    top1_chance_within,
)

TARGET = 225
# Lowest first: a hit, then misses and hits mixed, and a failure (never an answer).
POOL = [
    Relaxation(-3.0, 12, 40),
    Relaxation(-3.2, 225, 10),
    Relaxation(None, None, 100),
    Relaxation(-3.5, 1, 70),
    Relaxation(-2.9, 225, 20),
    Relaxation(-3.1, 225, 30),
]


def _answer_hits(run) -> bool:
    ok = [p for p in run if p.energy is not None]
    return bool(ok) and min(ok, key=lambda p: p.energy).group == TARGET


@pytest.mark.parametrize("k", range(1, len(POOL) + 1))
def test_top1_chance_is_the_mean_over_subsets(k):
    subsets = list(combinations(POOL, k))
    assert top1_chance(POOL, TARGET, k) == pytest.approx(sum(map(_answer_hits, subsets)) / len(subsets))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top1_chance_with_replacement_is_the_mean_over_draws(k):
    draws = list(product(POOL, repeat=k))
    assert top1_chance(POOL, TARGET, k, replace=True) == pytest.approx(sum(map(_answer_hits, draws)) / len(draws))


def test_top1_chance_of_the_whole_pool_is_the_run_itself():
    assert top1_chance(POOL, TARGET, len(POOL)) == 0.0  # the P1 structure is lowest
    assert top1_chance(POOL[:3] + POOL[4:], TARGET, 5) == 1.0  # without it a 225 one is
    with pytest.raises(ValueError):
        top1_chance(POOL, TARGET, len(POOL) + 1)


def test_expected_first_hit_is_the_mean_over_orderings():
    calls, evaluations = [], []
    for order in permutations(POOL):
        first = next(i for i, p in enumerate(order) if p.energy is not None and p.group == TARGET)
        calls.append(first + 1)
        evaluations.append(sum(p.evaluations for p in order[: first + 1]))
    assert expected_first_hit(POOL, TARGET) == pytest.approx((np.mean(calls), np.mean(evaluations)))
    assert expected_first_hit(POOL, 229) is None


def test_top1_chance_within_a_budget_matches_enumeration():
    budget = 100
    outcomes = []
    for order in permutations(POOL):
        kept = [p for p, spent in zip(order, np.cumsum([p.evaluations for p in order])) if spent <= budget]
        outcomes.append(_answer_hits(kept))
    exact = np.mean(outcomes)
    estimate = top1_chance_within(POOL, TARGET, budget, np.random.default_rng(0))
    assert 0 < exact < 1 and estimate == pytest.approx(exact, abs=0.03)
    assert top1_chance_within(POOL, TARGET, budget, np.random.default_rng(0)) == estimate  # seeded
    assert top1_chance_within(POOL, TARGET, 5, np.random.default_rng(0)) == 0.0  # nothing fits in 5


def test_read_pool_keeps_the_run_order_and_scores_groups(tmp_path):
    from ase.build import bulk
    from ase.db import connect

    db = connect(tmp_path / "random.db")
    fcc, bcc = bulk("Cu", "fcc", a=3.6), bulk("Cu", "bcc", a=2.9)
    db.write(bcc, backend_call=1, stage="relax", status="ok", energy_per_atom=-3.5, calls=2, steps=9)
    db.write(fcc, backend_call=1, stage="relax", status="ok", energy_per_atom=-3.7, calls=1, steps=4)
    db.write(fcc, backend_call=1, stage="relax", status="failed", reason="x", calls=3, steps=0)
    db.write(fcc, stage="relax", status="ok", energy_per_atom=-9.0, calls=3, steps=1)  # not a backend call
    assert read_pool(tmp_path / "random.db") == [
        Relaxation(-3.7, 225, 5), Relaxation(-3.5, 229, 10), Relaxation(None, None, 1)]


def test_expected_count_and_its_spread():
    assert expected_count([1.0, 0.5, 0.0]) == (1.5, 0.5)
