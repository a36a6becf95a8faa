"""The uniform lattice generator's shapes (`[sampler] lattice_shapes`): narrow keeps c / V^(1/3) in 0.5-1.5;
wide draws long and flat axial cells and rhombohedral cells by their primitive angle."""

import math

import numpy as np
import pytest

from sccop.config import SamplerConfig
from sccop.errors import SccopInputError
from sccop.sampling.lattice import WIDE_C_RATIO, WIDE_RHOMBOHEDRAL_ANGLE, sample_lattice
from sccop.sampling.validate import check_symmetry

WINDOW = (100.0, 300.0)


def draws(system, shapes, rhombohedral=False, n=2000):
    rng = np.random.default_rng(5)
    return [sample_lattice(system, WINDOW, rng, uniform_share=1.0, shapes=shapes, rhombohedral=rhombohedral)
            for _ in range(n)]


def c_ratio(sample):
    return sample.c / abs(np.linalg.det(sample.matrix())) ** (1.0 / 3.0)


@pytest.mark.parametrize("system", ["tetragonal", "hexagonal", "trigonal"])
def test_narrow_and_wide_axial_shapes(system):
    narrow = np.array([c_ratio(s) for s in draws(system, "narrow")])
    wide = draws(system, "wide")
    ratios = np.array([c_ratio(s) for s in wide])
    assert narrow.min() >= 0.5 - 1e-9 and narrow.max() <= 1.5 + 1e-9
    lo, hi = WIDE_C_RATIO
    assert ratios.min() >= lo - 1e-9 and ratios.max() <= hi + 1e-9
    # log-uniform: the share above 1.5 is ln(hi/1.5) / ln(hi/lo), about 0.29
    expected = math.log(hi / 1.5) / math.log(hi / lo)
    assert abs(np.mean(ratios > 1.5) - expected) < 0.04
    volumes = [abs(np.linalg.det(s.matrix())) for s in wide]
    assert min(volumes) >= WINDOW[0] - 1e-6 and max(volumes) <= WINDOW[1] + 1e-6
    angles = {s.cellpar[3:] for s in wide}
    assert angles == {(90.0, 90.0, 90.0 if system == "tetragonal" else 120.0)}


def test_wide_rhombohedral_cells_by_their_primitive_angle():
    from ase.geometry import cell_to_cellpar

    from sccop.symmetry.groups import CENTRING_TO_PRIMITIVE

    samples = draws("trigonal", "wide", rhombohedral=True)
    angles = []
    for s in samples:
        primitive = CENTRING_TO_PRIMITIVE["R"] @ s.matrix()
        a, b, c, alpha, beta, gamma = cell_to_cellpar(primitive)
        assert a == pytest.approx(b) and b == pytest.approx(c)
        assert alpha == pytest.approx(beta) and beta == pytest.approx(gamma)
        angles.append(alpha)
        assert WINDOW[0] - 1e-6 <= abs(np.linalg.det(s.matrix())) <= WINDOW[1] + 1e-6
    lo, hi = WIDE_RHOMBOHEDRAL_ANGLE
    assert min(angles) >= lo - 1e-6 and max(angles) <= hi + 1e-6
    # uniform in the angle: the flat and long ends are both drawn (c/a from below 1 to above 5)
    ratios = [s.c / s.a for s in samples]
    assert min(ratios) < 1.0 and max(ratios) > 5.0
    assert abs(np.mean(np.array(angles) < 60.0) - (60.0 - lo) / (hi - lo)) < 0.04


def test_wide_shapes_in_the_sampler():
    from sccop.composition import parse_composition
    from sccop.sampling.sampler import Sampler

    comp = parse_composition("CdTiO3")  # ilmenite's R-3 on hexagonal axes: c/a = 2.8
    config = SamplerConfig(spacegroups=(148,), lattice_shapes="wide")
    results = Sampler(comp, [2], config).sample(30, seed=1)
    assert len(results) >= 25
    ratios = []
    for _, structure in results:
        assert check_symmetry(structure).keeps_all_operations
        a, c = np.linalg.norm(structure.lattice[0]), np.linalg.norm(structure.lattice[2])
        ratios.append(c / a)
    assert max(ratios) > 2.5  # beyond the uniform narrow shapes (c / V^(1/3) <= 1.5: c/a <= 1.71 on hexagonal axes)
    with pytest.raises(SccopInputError, match=r"lattice_shapes"):
        SamplerConfig(lattice_shapes="round")
