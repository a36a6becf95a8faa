import pytest

from sccop.composition import (
    element_data,
    formula_units_for,
    parse_composition,
    parse_range,
    volume_window,
    window_parts,
)
from sccop.errors import SccopInputError


@pytest.mark.parametrize(
    "text, counts",
    [
        ("Mg2SiO4", {"Mg": 2, "Si": 1, "O": 4}),
        ("BC3", {"B": 1, "C": 3}),
        ("C", {"C": 1}),
        ("CuIn5Se8", {"Cu": 1, "In": 5, "Se": 8}),
        ("Ba2YIrO6", {"Ba": 2, "Y": 1, "Ir": 1, "O": 6}),
        ("Na2Cl2", {"Na": 1, "Cl": 1}),
    ],
)
def test_parse_composition(text, counts):
    assert dict(parse_composition(text).counts) == counts


@pytest.mark.parametrize(
    "text, words",
    [("Xx2O", "unknown element 'Xx'"), ("", "empty"), ("Na-1Cl", "negative"), ("Na0.5Cl", "fractional")],
)
def test_bad_compositions_name_the_problem(text, words):
    with pytest.raises(SccopInputError, match=words):
        parse_composition(text)


def test_cell_sizes_are_whole_multiples():
    comp = parse_composition("Mg2SiO4")
    assert formula_units_for(comp, atoms=(5, 10)) == [1]
    assert formula_units_for(comp, atoms=(7, 21)) == [1, 2, 3]
    assert formula_units_for(comp, formula_units=(1, 4)) == [1, 2, 3, 4]
    with pytest.raises(SccopInputError, match="no whole multiple"):
        formula_units_for(comp, atoms=(8, 13))
    assert parse_range("5-10", "x") == (5, 10)
    with pytest.raises(SccopInputError):
        parse_range("10-5", "x")


def test_volume_window_rules():
    # NaCl: both windows overlap; SCCOP's rule is their intersection, span is their hull.
    (d_lo, d_hi), (p_lo, p_hi) = window_parts({"Na": 1, "Cl": 1})
    assert volume_window({"Na": 1, "Cl": 1}, rule="sccop") == pytest.approx((max(d_lo, p_lo), min(d_hi, p_hi)))
    assert volume_window({"Na": 1, "Cl": 1}) == pytest.approx((min(d_lo, p_lo), max(d_hi, p_hi)))
    assert volume_window({"Na": 1, "Cl": 1}, rule="regression") == pytest.approx((p_lo, p_hi))
    r = element_data("C").radius
    dense = 2 * 4 / 3 * 3.141592653589793 * r**3
    # Diamond carbon: the two windows do not overlap, so SCCOP's rule falls back to the dense window,
    # which misses diamond (11.3 A^3 per 2 atoms); the default span holds it.
    assert volume_window({"C": 2}, rule="sccop") == pytest.approx((0.96 * dense, 2.66 * dense))
    assert not volume_window({"C": 2}, rule="sccop")[1] > 11.3
    lo, hi = volume_window({"C": 2})
    assert lo < 11.3 < hi
    with pytest.raises(SccopInputError, match="volume window rule"):
        volume_window({"C": 2}, rule="huge")
    lo, hi = volume_window({"C": 2}, dim=2)
    assert 0 < lo < hi


def test_one_cell_size_rule_for_sample_and_search():
    """Without --atoms or --formula-units: a formula written unreduced is taken as written; a reduced one
    gets whole formula units up to 8 atoms (one when the formula unit is bigger)."""
    from sccop.composition import cell_sizes

    assert cell_sizes(parse_composition("Ga4Os2")) == [2]  # 6 atoms, as written
    assert parse_composition("Ga4Os2").formula == "Ga2Os"  # the reduced formula, as reported
    assert cell_sizes(parse_composition("B12")) == [12]
    assert cell_sizes(parse_composition("NaCl")) == [1, 2, 3, 4]
    assert cell_sizes(parse_composition("CuIn5Se8")) == [1]
    assert cell_sizes(parse_composition("Ga4Os2"), atoms="3") == [1]  # --atoms says otherwise
    assert cell_sizes(parse_composition("NaCl"), formula_units="2-3") == [2, 3]


def test_parentheses_are_read_as_chemists_write_them():
    comp = parse_composition("Ca(OH)2")
    assert dict(comp.counts) == {"Ca": 1, "O": 2, "H": 2} and comp.formula == "Ca(HO)2"
    assert dict(parse_composition("Mg3(PO4)2").counts) == {"Mg": 3, "P": 2, "O": 8}


def test_sample_and_search_take_the_same_default_cells(tmp_path):
    import sccop
    from sccop.loop.driver import Search

    sizes = {len(a) for a in sccop.sample("Ga4Os2", 4, seed=1)}
    assert sizes == {6}
    assert Search(sccop.RunConfig(composition="Ga4Os2"), tmp_path / "run").formula_units == [2]
