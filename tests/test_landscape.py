"""Partition and selection return distinct, diverse structures."""

import numpy as np
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor

from sccop.config import LandscapeConfig
from sccop.landscape import deduplicate, partition, representatives, select


def blobs(rng, n_per=30, centres=((0, 0), (8, 0), (0, 8), (8, 8))):
    vectors = np.concatenate([rng.normal(c, 0.3, size=(n_per, 2)) for c in centres])
    vectors = np.hstack([vectors, rng.normal(0, 0.01, size=(len(vectors), 6))])
    truth = np.repeat(np.arange(len(centres)), n_per)
    return vectors, truth


def test_partition_recovers_separated_regions():
    rng = np.random.default_rng(0)
    vectors, truth = blobs(rng)
    labels, embedding = partition(vectors, LandscapeConfig(clusters=4), rng)
    assert embedding.shape == (120, 8)
    for blob in range(4):  # every region is one blob
        assert len(set(labels[truth == blob])) == 1
    assert len(set(labels)) == 4


def test_representatives_are_lowest_and_balanced_across_space_groups():
    labels = np.array([0, 0, 0, 0, 1, 1])
    energies = np.array([-3.0, -2.9, -2.8, -1.0, -2.0, -1.5])
    groups = np.array([225, 225, 225, 221, 1, 2])
    picked = representatives(labels, energies, groups, per_cluster=2)
    assert picked == [0, 3, 4, 5]  # region 0: best 225 then best 221, not two 225s


def test_selection_is_diverse_and_low_in_energy():
    rng = np.random.default_rng(1)
    vectors, truth = blobs(rng)
    energies = rng.normal(0, 1, size=len(vectors))
    picks = select(energies, vectors, 4, rng=rng)
    assert len(set(picks)) == 4
    assert sorted(truth[picks].tolist()) == [0, 1, 2, 3]  # one per region
    for p in picks:
        assert energies[p] == energies[truth == truth[p]].min()
    # An uncertainty bonus can change the pick within a region.
    sigma = np.zeros(len(energies))
    region0 = np.flatnonzero(truth == 0)
    worst = region0[np.argmax(energies[region0])]
    sigma[worst] = 100.0
    bonus = select(energies, vectors, 4, uncertainty=sigma, config=LandscapeConfig(uncertainty_weight=1.0), rng=np.random.default_rng(1))
    assert worst in bonus


def test_family_cap_spreads_the_picks_over_families():
    rng = np.random.default_rng(1)
    vectors, truth = blobs(rng)
    energies = rng.normal(0, 1, size=len(vectors))
    # Family "low" holds the two lowest structures of every region: uncapped, it takes every pick.
    families = ["other%d" % i for i in range(len(energies))]
    for region in range(4):
        members = np.flatnonzero(truth == region)
        for i in members[np.argsort(energies[members])][:2]:
            families[i] = "low"
    free = select(energies, vectors, 4, rng=np.random.default_rng(1), families=families)
    assert [families[i] for i in free] == ["low"] * 4
    config = LandscapeConfig(family_cap=1)
    capped = select(energies, vectors, 4, config=config, rng=np.random.default_rng(1), families=families)
    assert len(capped) == 4 and [families[i] for i in capped].count("low") == 1
    assert sorted(truth[capped].tolist()) == [0, 1, 2, 3]  # still one per region
    assert capped[0] == int(np.argmin(energies))  # the lowest of all is kept
    # Each region's pick is its lowest outside the full family.
    for p in capped:
        region = np.flatnonzero(truth == truth[p])
        allowed = [i for i in region if families[i] != "low" or i == capped[0]]
        assert energies[p] == min(energies[i] for i in allowed)
    # Too few families: fewer picks, never more than the cap of one.
    two = ["a" if i % 2 else "b" for i in range(len(energies))]
    assert sorted(two[i] for i in select(energies, vectors, 4, config=config, rng=np.random.default_rng(1), families=two)) == ["a", "b"]


def test_deduplicate_by_vector_then_structure_matcher():
    a = bulk("NaCl", "rocksalt", a=5.6)
    shifted = a.copy()
    shifted.translate([0.3, 0.1, 0.2])
    shifted.wrap()
    other = bulk("NaCl", "cesiumchloride", a=3.4)
    structures = [AseAtomsAdaptor.get_structure(x) for x in (a, shifted, other, a)]
    vectors = np.array([[1.0, 0.0], [1.5, 0.2], [0.0, 1.0], [1.0, 0.0]])
    assert deduplicate([0, 1, 2, 3], vectors) == [0, 1, 2]  # 3 is 0's crystal vector
    assert deduplicate([0, 1, 2, 3], vectors, structures) == [0, 2]  # 1 is 0 translated


def test_deduplicate_drops_what_is_known_already():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    known = np.array([[0.0, 1.0 + 1e-6], [5.0, 5.0]])  # the second option, labelled before
    assert deduplicate([2, 1, 0], vectors, known=known) == [2, 0]
    assert deduplicate([2, 1, 0], vectors, known=np.zeros((0, 2))) == [2, 1, 0]
