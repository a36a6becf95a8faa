"""Scoring a method's database: the answer as relaxed, the costs to the first hit, the reference."""


from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from sccop.bench import BenchRow, score
from sccop.calls.store import Store


def test_score_counts_calls_to_the_first_hit_and_matches_the_reference(tmp_path):
    # Calls in order: bcc Cu (229), fcc Cu (225, the lowest), a strained fcc (225, higher), sc (221).
    store = Store(tmp_path / "x.db")
    fcc = bulk("Cu", "fcc", a=3.6)
    structures = [(bulk("Cu", "bcc", a=2.87), -3.0), (fcc, -3.5), (bulk("Cu", "fcc", a=3.7), -3.4),
                  (bulk("Cu", "sc", a=2.4), -2.0)]
    rows = []
    for k, (atoms, e) in enumerate(structures, 1):
        atoms = atoms.copy()
        atoms.calc = SinglePointCalculator(atoms, energy=e * len(atoms))
        rows.append((f"relax/{k}", atoms, {}, {"stage": "relax", "status": "ok", "energy_per_atom": e,
                                              "backend_call": 1, "calls": k, "steps": 10 * k}))
    rows.append(("relax/5", fcc.copy(), {}, {"stage": "relax", "status": "failed", "reason": "boom", "backend_call": 1,
                                             "calls": 5}))
    store.put_many(rows)
    write(tmp_path / "ref.cif", bulk("Cu", "fcc", a=3.61, cubic=True))  # conventional cell: the matcher must not care
    row = BenchRow("mp-30", "Cu", 1, 225, "toy")
    result = score(tmp_path / "x.db", row, tmp_path / "ref.cif")
    assert result["best_spacegroup"] == 225 and result["spacegroup_match"]
    assert result["calls"] == 5 and result["failed_calls"] == 1
    assert result["calls_to_hit"] == 2 and result["calls_to_final_group"] == 2 and result["calls_to_match"] == 2
    # The top 5 unique structures: the two fcc cells are one structure (scaled), so fcc, bcc, sc.
    assert result["top5_spacegroups"] == "225 229 221" and result["top5_structure_match"]
    # Evaluations: a relaxation counts its steps plus one (11, 21, 31, 41, and 1 for the failed one). The best
    # so far changes at the first two: what a run cut at a given number of evaluations would have answered.
    assert result["evaluations"] == 105 and result["evaluations_to_hit"] == 32
    assert result["best_spacegroup_by_evaluations"] == "11:229 32:225"
    from sccop.bench.scoring import group_within
    assert [group_within(result["best_spacegroup_by_evaluations"], n) for n in (10, 11, 31, 32, 1000)] == [None, 229, 229, 225, 225]
    # A row asking for bcc: top-1 misses, top-5 hits, and the first hit is the first call.
    other = score(tmp_path / "x.db", BenchRow("mp-13", "Cu", 1, 229, "toy"), None)
    assert not other["spacegroup_match"] and other["top5_spacegroup_match"] and other["calls_to_hit"] == 1
    assert "structure_match" not in other


def test_a_search_hit_is_found_at_its_label(tmp_path):
    """The hit came from a label made at call 1 and relaxed at call 3: calls_to_hit 3, found at 1. Its
    cost in evaluations: the single point (1), the bcc relaxation (7 steps: 8) and its own (4 steps: 5)."""
    store = Store(tmp_path / "x.db")
    rows = []
    for uid, atoms, e, k, stage, parent, steps in (
        ("label:a", bulk("Cu", "fcc", a=3.7), -3.3, 1, "label", None, 0),
        ("relax:b", bulk("Cu", "bcc", a=2.87), -3.0, 2, "relax", "label:q", 7),
        ("relax:label:a", bulk("Cu", "fcc", a=3.6), -3.5, 3, "relax", "label:a", 4),
        ("relax:c", bulk("Cu", "sc", a=2.4), -2.5, 4, "relax", None, 50),
    ):
        atoms = atoms.copy()
        atoms.calc = SinglePointCalculator(atoms, energy=e * len(atoms))
        rows.append((uid, atoms, {}, {"stage": stage, "status": "ok", "energy_per_atom": e, "backend_call": 1,
                                      "calls": k, "parent": parent, "steps": steps}))
    store.put_many(rows)
    result = score(tmp_path / "x.db", BenchRow("mp-30", "Cu", 1, 225, "toy"), None)
    assert result["calls_to_hit"] == 3 and result["calls_to_hit_found"] == 1
    assert result["evaluations_to_hit"] == 1 + 8 + 5
    bcc = score(tmp_path / "x.db", BenchRow("mp-13", "Cu", 1, 229, "toy"), None)
    assert bcc["calls_to_hit"] == 2 and bcc["calls_to_hit_found"] == 2  # its parent is not in the database
    assert bcc["evaluations_to_hit"] == 1 + 8
    assert score(tmp_path / "x.db", BenchRow("mp-x", "Cu", 1, 194, "toy"), None).get("evaluations_to_hit") is None
