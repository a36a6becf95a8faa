"""A user's seed structures: labelled and relaxed first, ranked, and seeding the sampler from round 0."""

from dataclasses import replace

import pytest
from ase.build import bulk
from ase.db import connect
from ase.io import write

from sccop.answer.ranking import ranked
from sccop.calls.store import open_store
from sccop.cli.main import main
from sccop.errors import SccopInputError
from sccop.loop.driver import Search
from sccop.loop.seeds import read_seeds, seed_assignment
from sccop.symmetry.analysis import wyckoff_orbits
from sccop.symmetry.groups import get_group


def l10(a=3.75):
    atoms = bulk("Cu", "fcc", a=a, cubic=True)
    atoms[0].symbol = atoms[1].symbol = "Au"
    return atoms


def test_seeds_are_labelled_relaxed_ranked_and_seed_the_sampler(tmp_path, small_config):
    write(tmp_path / "L10.cif", l10())
    config = replace(small_config(rounds=1), search=replace(small_config(rounds=1).search, seeds=str(tmp_path / "L10.cif")))
    out = tmp_path / "run"
    Search(config, out, progress=False).run()
    store = open_store(out, config)
    first = sorted(store.rows(backend_call=1), key=lambda r: r.get("calls"))[:2]
    assert [r.uid for r in first] == ["label:seed/user/0", "relax:label:seed/user/0"]  # before anything sampled
    seeded = [r for r in store.rows(stage="sample") if str(r.get("parent", "")).startswith("relax:label:seed/user/")]
    assert seeded, "the seed's lattice gave round 0 samples"
    relaxed_seed = store.get("relax:label:seed/user/0").toatoms()
    number, orbits = wyckoff_orbits(relaxed_seed)
    want = seed_assignment(relaxed_seed, get_group(number))
    for row in seeded:
        symmetric = row.data["symmetric"]
        assert symmetric["group"] == number
        group = get_group(number)
        got = tuple(sorted((e, next(w.index for w in group.wyckoffs if w.label == label))
                           for e, label in zip(symmetric["elements"], _labels(row))))
        assert got == want  # placed with the seed's own Wyckoff set
    assert any(c.source == "relax:label:seed/user/0" or c.copies > 1 for c in ranked(store, config))


def _labels(row):
    wyckoff = row.get("wyckoff")  # e.g. "1a1d": one label per orbit
    import re

    return re.findall(r"\d+[a-zA-Z]", wyckoff)


def test_seeds_from_a_folder_and_a_database(tmp_path, small_config):
    from sccop.composition import parse_composition

    folder = tmp_path / "seeds"
    folder.mkdir()
    write(folder / "a.cif", l10())
    write(folder / "POSCAR", l10(3.8), format="vasp")
    (folder / "notes.txt").write_text("not a structure")
    found = read_seeds(folder, parse_composition("CuAu"))
    assert [name for name, _ in found] == ["POSCAR", "a.cif"]
    with connect(tmp_path / "seeds.db") as db:
        db.write(l10())
        db.write(l10(3.9))
    assert len(read_seeds(tmp_path / "seeds.db", parse_composition("CuAu"))) == 2


def test_a_seed_of_another_composition_is_refused_before_anything_is_written(tmp_path, capsys):
    write(tmp_path / "Cu.cif", bulk("Cu", "fcc", a=3.6))
    code = main(["search", "CuAu", "--backend", "emt", "--seeds", str(tmp_path / "Cu.cif"), "--out", str(tmp_path / "r")])
    assert code == 2
    assert "is Cu, not CuAu" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    with pytest.raises(SccopInputError, match="do not exist"):
        from sccop.composition import parse_composition

        read_seeds(tmp_path / "missing.cif", parse_composition("CuAu"))


def test_a_resumed_run_refuses_a_changed_seed(tmp_path, small_config):
    path = tmp_path / "L10.cif"
    write(path, l10())
    base = small_config(rounds=1, budget_calls=12)
    config = replace(base, search=replace(base.search, seeds=str(path)))
    Search(config, tmp_path / "run", progress=False).run()
    write(path, l10(3.95))  # another structure under the same name
    with pytest.raises(SccopInputError, match="label:seed/user/0"):
        Search(config, tmp_path / "run", progress=False).run()
