"""Benchmark tables: columns, row and id selection, the prototype index, bad tables."""


import pytest

from sccop.bench import read_table
from sccop.errors import SccopInputError


def test_table_columns_rows_ids_and_the_prototype_index(tmp_path):
    index = tmp_path / "index.csv"
    index.write_text("name,formula,nsites,spacegroup,symbol\nSi,Si,2,227,Fd-3m\nNaCl,NaCl,2,225,Fm-3m\nCu,Cu,1,225,Fm-3m\n")
    rows = read_table(index, rows="2-3")
    assert [r.id for r in rows] == ["NaCl", "Cu"] and rows[0].formula == "NaCl" and rows[0].columns["symbol"] == "Fm-3m"
    assert [r.id for r in read_table(index, ids="Cu,Si")] == ["Cu", "Si"]
    with pytest.raises(SccopInputError, match="rows 1-3, not 4"):
        read_table(index, rows="4")
    with pytest.raises(SccopInputError, match="no row with id Xx"):
        read_table(index, ids="Xx")
    broken = tmp_path / "broken.csv"
    broken.write_text("material_id,nsites\nmp-1,2\n")
    with pytest.raises(SccopInputError, match="lacks the column"):
        read_table(broken)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("material_id,full_formula,nsites,spacegroup\nmp-1,Xx2O,3,1\n")
    with pytest.raises(SccopInputError, match="Xx"):
        read_table(unknown)


def test_duplicate_ids_are_refused(tmp_path):
    index = tmp_path / "index.csv"
    index.write_text("name,formula,nsites,spacegroup\nCu,Cu,1,225\nCu,Cu,2,194\n")
    with pytest.raises(SccopInputError, match="ids must be unique"):
        read_table(index)
    assert [r.id for r in read_table(index, rows="1")] == ["Cu"]
