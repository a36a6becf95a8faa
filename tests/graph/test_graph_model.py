"""The asymmetric-unit graph network is the same function as the whole-cell one."""

import numpy as np
import pytest
import torch

from sccop.composition import parse_composition
from sccop.config import SamplerConfig
from sccop.graph import au_graph, batch_graphs, cell_graph
from sccop.model import CGCNN, to_tensors
from sccop.sampling.sampler import Sampler

GROUPS = [1, 2, 5, 12, 14, 36, 62, 63, 99, 123, 136, 139, 146, 160, 166, 186, 191, 194, 216, 221, 225, 227, 229]


def predict(model, graphs):
    with torch.no_grad():
        return model(to_tensors(batch_graphs(graphs), dtype=torch.float64)).numpy()


@pytest.fixture(scope="module")
def structures():
    out = []
    for formula, units in (("MgO", [1, 2, 3, 4]), ("SrTiO3", [1, 2]), ("C", [2, 4, 6, 8])):
        # Groups drawn uniformly, so that the structures cover many of GROUPS (low ones included).
        config = SamplerConfig(spacegroups=tuple(GROUPS), symmetry_bias=0.0)
        sampler = Sampler(parse_composition(formula), units, config)
        out.extend(s for _, s in sampler.sample(12, seed=5))
    return out


def test_au_graph_has_one_node_per_orbit(structures):
    for s in structures:
        g = au_graph(s)
        assert g.n_nodes == len(s.orbits)
        assert g.weights.sum() == len(s.to_atoms(primitive=False))
        assert (g.distances <= 8.0).all() and set(g.src) == set(range(g.n_nodes))


def test_au_graph_network_equals_whole_cell_network(structures):
    torch.manual_seed(0)
    model = CGCNN().double()
    groups = set()
    au = predict(model, [au_graph(s) for s in structures])
    conventional = predict(model, [cell_graph(s.to_atoms(primitive=False)) for s in structures])
    primitive = predict(model, [cell_graph(s.to_atoms()) for s in structures])
    groups = {s.spacegroup for s in structures}
    assert len(groups) >= 12
    np.testing.assert_allclose(au, conventional, atol=1e-5, rtol=0)
    np.testing.assert_allclose(au, primitive, atol=1e-5, rtol=0)
    assert np.std(au) > 1e-6, "distinct structures should score differently"


def test_batching_does_not_change_a_structure_score(structures):
    torch.manual_seed(1)
    model = CGCNN().double()
    graphs = [au_graph(s) for s in structures[:6]]
    together = predict(model, graphs)
    alone = np.array([predict(model, [g])[0] for g in graphs])
    np.testing.assert_allclose(together, alone, atol=1e-10)


def test_centre_neighbour_list_matches_ase():
    from ase.build import bulk
    from ase.neighborlist import neighbor_list

    from sccop.graph.crystal_graph import pairs_within

    atoms = bulk("NaCl", "rocksalt", a=5.6) * (1, 2, 1)
    atoms.rattle(0.1, seed=1)
    cell, frac, pbc = atoms.cell[:], atoms.get_scaled_positions(), np.array(atoms.pbc)
    i, j, d = pairs_within(cell, frac, pbc, np.arange(len(atoms)), 8.0)
    ref_i, ref_j, ref_d = neighbor_list("ijd", atoms, 8.0)
    ours = sorted(zip(i.tolist(), j.tolist(), np.round(d, 8).tolist()))
    theirs = sorted(zip(ref_i.tolist(), ref_j.tolist(), np.round(ref_d, 8).tolist()))
    assert ours == theirs
    only = pairs_within(cell, frac, pbc, np.array([2]), 8.0)
    assert set(only[0].tolist()) == {2} and len(only[2]) == (ref_i == 2).sum()


@pytest.mark.parametrize("seed", range(6))
def test_growing_radius_keeps_the_full_cutoff_edges(seed):
    """The adaptive search radius selects exactly the edges the full 8 A list would give."""
    from sccop.config import GraphConfig
    from sccop.graph.crystal_graph import _nearest, pairs_within

    rng = np.random.default_rng(seed)
    cell = np.diag(rng.uniform(2.5, 9.0, 3)) + rng.uniform(-1.0, 1.0, (3, 3))
    frac, pbc = rng.random((5, 3)), np.array([True, True, True])
    if seed % 2:  # a special position: an exact tie among the neighbours
        frac[1] = frac[0] + 0.5
    centres = np.arange(5)
    config = GraphConfig()
    i, j, d = _nearest(cell, frac, pbc, centres, config)
    fast = sorted(zip(i.tolist(), j.tolist(), np.round(d, 8).tolist()))
    # Reference: every pair within the full 8 A, then the 12 nearest per centre with ties kept.
    fi, fj, fd = pairs_within(cell, frac, pbc, centres, 8.0)
    full = []
    for c in centres:
        dc = np.sort(fd[fi == c])
        limit = dc[min(11, len(dc) - 1)] + config.tie_tolerance
        full += [(c, jj, round(dd, 8)) for jj, dd in zip(fj[fi == c].tolist(), fd[fi == c].tolist()) if dd <= limit]
    assert fast == sorted(full) and len(fast) >= 12 * len(centres)
