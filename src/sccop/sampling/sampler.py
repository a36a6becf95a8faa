"""The symmetric structure sampler: composition -> many valid, diverse, symmetric structures.

One attempt draws a group among those that fit the composition (weighted by its point-group order,
see `SamplerConfig.symmetry_bias`, optionally mixed with the composition -> space-group model,
`group_prior`), a cell size, one of the group's Wyckoff assignments (uniformly, or favouring few
orbits: `orbit_bias`), a lattice of
the group's crystal system inside the volume window, then places the orbits on the group's
asymmetric-unit grid. Structure i of a run with seed S uses its own generator seeded with (S, i), so
it does not depend on how the others went.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from sccop.composition import Composition, distance_limits, element_data, volume_window
from sccop.config import SamplerConfig
from sccop.errors import NoWyckoffCombinationError, SccopInputError
from sccop.sampling.lattice import sample_lattice
from sccop.sampling.placement import place_orbits
from sccop.sampling.structure import Orbit, SymmetricStructure
from sccop.symmetry.grid import GridDistances, get_grid, grid_divisions, layer_capacities
from sccop.symmetry.groups import GroupInfo, flat_layer_groups, get_group, group_kind, group_numbers, point_group_order
from sccop.symmetry.wyckoff import compatibility_problem, parsimony_weights, wyckoff_assignments

log = logging.getLogger(__name__)


@dataclass
class SamplerStats:
    """Attempts and failed attempts per crystal system (an attempt = one lattice + one placement)."""

    attempts: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    structures: int = 0
    gave_up: int = 0


def layer_thickness(composition: Composition, config: SamplerConfig) -> float | None:
    """A layer's thickness window (Angstrom): the configured one, or 1.5 mean bond lengths (twice the
    composition's mean atomic radius) when none is set; None in 3D."""
    if config.dim == 3:
        return None
    if config.thickness is not None:
        return float(config.thickness)
    weights = np.array([n for _, n in composition.counts], dtype=float)
    radii = np.array([element_data(el).radius for el, _ in composition.counts])
    return round(float(1.5 * 2.0 * (weights * radii).sum() / weights.sum()), 3)


class Sampler:
    """Samples SymmetricStructures of one composition over allowed groups and cell sizes.

    formula_units: the numbers of reduced formula units per primitive cell to sample.
    """

    def __init__(self, composition: Composition, formula_units: list[int], config: SamplerConfig | None = None):
        self.composition = composition
        self.config = config = config or SamplerConfig()
        if not formula_units:
            raise SccopInputError("no cell size to sample")
        self.elements = list(composition.elements)
        radii = np.array([element_data(el).radius for el in self.elements])
        self.min_dist = distance_limits(self.elements, config.distance_factor)
        weights = np.array([n for _, n in composition.counts], dtype=float)
        mean_radius = float((weights * radii).sum() / weights.sum())
        self.spacing = config.grid_spacing * 2.0 * mean_radius
        self.thickness = layer_thickness(composition, config)
        self.c_length = config.vacuum + (self.thickness or 0.0)
        self.z_frac = self._z_frac(self.c_length)
        # The heights an attempt places on: the 3D grid; a layer's full set of heights and, with a thickness,
        # the middle plane alone (a flat layer), drawn with probability `flat_share` (`_draw`).
        self.height_sets: tuple = (self.z_frac,)
        if config.dim == 2 and len(self.z_frac) > 1:
            self.height_sets = ((0.5,), self.z_frac)
        if config.spacegroups:
            groups = config.spacegroups
        elif config.dim == 2 and not self.thickness:
            groups = flat_layer_groups()  # a flat layer: the plane groups (the others add no structure)
        else:
            groups = tuple(group_numbers(config.dim))
        self.options: list[tuple[GroupInfo, list[int]]] = []
        # Per (group, height set): how many orbits a fixed position holds, and the cell sizes that fit.
        self.capacities: dict[tuple[int, int], tuple[int, ...] | None] = {}
        self.fits: dict[tuple[int, int], list[int]] = {}
        problems: list[str] = []
        for number in groups:
            group = get_group(int(number), config.dim)
            union: list[int] = []
            for k, heights in enumerate(self.height_sets):
                if k == 0 and len(self.height_sets) > 1 and not config.spacegroups and group.number not in flat_layer_groups():
                    continue  # a flat layer is sampled in the plane groups, as with thickness 0
                capacities = None if heights is None else layer_capacities(group, heights)
                self.capacities[(group.number, k)] = capacities
                fits = []
                for z in formula_units:
                    problem = compatibility_problem(group, self._conventional_counts(group, z), capacities)
                    if problem is None:
                        fits.append(z)
                    elif k == len(self.height_sets) - 1:
                        problems.append(problem)
                self.fits[(group.number, k)] = fits
                union += [z for z in fits if z not in union]
            if union:
                self.options.append((group, sorted(union)))
        if not self.options:
            kind = group_kind(config.dim)
            detail = problems[0] if len(problems) == 1 else f"e.g. {problems[0]}"
            raise NoWyckoffCombinationError(
                f"{composition.formula} with {formula_units} formula units fits no Wyckoff combination "
                f"in the {len(groups)} allowed {kind}(s) ({detail})"
            )
        # Probability of drawing each of `options`: (point-group order)^symmetry_bias, normalised; with the
        # model prior, mixed with the model's probabilities renormalised over the groups that fit.
        weights = np.array([point_group_order(g) for g, _ in self.options], dtype=float) ** config.symmetry_bias
        self.group_probabilities = weights / weights.sum()
        self.prior_note = f"group prior: point-group order^{config.symmetry_bias:g}"  # what a run logs
        if config.group_prior == "model":
            if config.dim != 3:
                raise SccopInputError("[sampler] group_prior = 'model' predicts space groups: it needs dim = 3")
            from sccop.prior.model import load_model

            model = load_model().probabilities_over({el: float(n) for el, n in composition.counts},
                                                    [g.number for g, _ in self.options])
            w = config.prior_weight
            self.group_probabilities = (1.0 - w) * self.group_probabilities + w * model
            first = np.argsort(-model, kind="stable")[:5]
            self.prior_note = (f"group prior: the composition -> space-group model, weight {w:g}; its first groups "
                               + ", ".join(f"{self.options[k][0].number} ({model[k]:.2f})" for k in first))

    def _conventional_counts(self, group: GroupInfo, z: int) -> dict[str, int]:
        return {el: n * z * group.centring_factor for el, n in self.composition.counts}

    def window(self, group: GroupInfo, z: int) -> tuple[float, float]:
        """The volume (dim 3) or area (dim 2) window of `group`'s conventional cell, its primitive cell holding `z`
        formula units."""
        rule = self.config.volume_window if self.config.dim == 3 else self.config.area_window
        lo, hi = volume_window(self.composition.scaled(z), self.config.dim, rule)
        return lo * group.centring_factor, hi * group.centring_factor

    def _z_frac(self, c_length: float) -> tuple[float, ...] | None:
        """A layer's heights (fractional along c): the middle plane z = 1/2 and, for a thickness t, levels
        about one grid spacing apart out to +-t/2, symmetric about it (an odd number, so that a layer
        group's mirror z -> -z maps heights onto heights and the middle plane is one of them)."""
        if self.config.dim == 3:
            return None
        t = self.thickness or 0.0
        if t <= 0:
            return (0.5,)
        m = max(1, int(math.ceil(t / 2 / self.spacing - 1e-9)))
        return tuple(float(0.5 + x / c_length) for x in np.linspace(-t / 2, t / 2, 2 * m + 1))

    def attempt(
        self,
        group: GroupInfo,
        z: int,
        rng: np.random.Generator,
        stats: SamplerStats | None = None,
        *,
        lattice: np.ndarray | None = None,
        assignment: tuple | None = None,
        heights: int | None = None,
    ) -> SymmetricStructure | None:
        """One Wyckoff assignment and up to `lattice_tries` lattices with a placement each.

        `lattice`: a conventional cell (rows, made by ASE's cellpar_to_cell) to place on instead of
        drawing lattices, e.g. the symmetrised cell of a relaxed structure. `assignment`: the Wyckoff
        assignment to place ((element, position index), ...), e.g. a seed structure's, instead of drawing one.
        `heights`: the index of the layer's height set to place on (default: `_heights` decides).
        """
        cfg = self.config
        counts = self._conventional_counts(group, z)
        k = self._heights(group, z, rng, given=assignment is not None) if heights is None else heights
        z_frac = self.height_sets[k]
        capacities = self.capacities.get((group.number, k))
        if capacities is None and z_frac is not None:
            capacities = layer_capacities(group, z_frac)
        assignments = wyckoff_assignments(group, counts, cap=cfg.assignment_cap, capacities=capacities,
                                          fewest_first=cfg.orbit_bias > 0)
        if assignment is None:
            if cfg.orbit_bias == 0:  # the uniform draw of runs made before orbit_bias
                k = int(rng.integers(len(assignments)))
            else:
                k = int(rng.choice(len(assignments), p=parsimony_weights(assignments, cfg.orbit_bias)))
            assignment = assignments[k]
        index = {el: i for i, el in enumerate(self.elements)}
        slots = [(index[el], w) for el, w in assignment]
        window = self.window(group, z)
        c_length = self.c_length
        cutoff = float(self.min_dist.max()) + 1e-6
        for _ in range(cfg.lattice_tries):
            if stats is not None:
                stats.attempts[group.lattice_system] += 1
            if lattice is None:
                matrix = sample_lattice(
                    group.lattice_system, window, rng, uniform_share=cfg.uniform_share, dim=cfg.dim, c_length=c_length,
                    shapes=cfg.lattice_shapes, rhombohedral=group.centring == "R",
                ).matrix()
            else:
                matrix = np.array(lattice, dtype=float)
                if cfg.dim == 2:  # a layer's heights are fractions of the sampler's own cell height
                    matrix[2] = [0.0, 0.0, c_length]
            a, b, c = np.linalg.norm(matrix, axis=1)
            if cfg.dim == 3:
                divisions = grid_divisions(group, (a, b, c), self.spacing)
            else:
                d = grid_divisions(group, (a, b, 1.0), self.spacing)
                divisions = (d[0], d[1], len(z_frac))
            grid = get_grid(group, divisions, z_frac)
            distances = GridDistances(grid, matrix, cutoff)
            sites = place_orbits(grid, distances, slots, self.min_dist, rng, max_nodes=cfg.max_nodes)
            if sites is not None:
                orbits = tuple(Orbit(self.elements[s], site) for (s, _), site in zip(slots, sites))
                return SymmetricStructure(grid=grid, lattice=matrix, orbits=orbits)
            if stats is not None:
                stats.failures[group.lattice_system] += 1
        return None

    def _heights(self, group: GroupInfo, z: int, rng: np.random.Generator, given: bool = False) -> int:
        """Which height set an attempt on a chosen group places on (a seed's lattice, say): the full set when
        the group and cell size fit it, else the middle plane alone; no draw is made."""
        last = len(self.height_sets) - 1
        usable = [k for k in range(last + 1) if z in self.fits.get((group.number, k), [])]
        return last if not usable or last in usable else usable[0]

    def _draw(self, rng: np.random.Generator) -> tuple[GroupInfo, int, int | None]:
        """(group, cell size, height set) of one attempt. A layer with a thickness first draws flat (the middle
        plane alone, with probability `flat_share`) or not, then a group among those that fit that height set,
        by the group weights; otherwise the group alone is drawn, as it always was."""
        probabilities = self.group_probabilities
        if len(self.height_sets) > 1:
            k = 0 if rng.random() < self.config.flat_share else len(self.height_sets) - 1
            allowed = [i for i, (g, _) in enumerate(self.options) if self.fits.get((g.number, k))]
            if not allowed:
                k = len(self.height_sets) - 1 - k
                allowed = [i for i, (g, _) in enumerate(self.options) if self.fits.get((g.number, k))]
            p = probabilities[allowed] / probabilities[allowed].sum()
            group = self.options[allowed[int(rng.choice(len(allowed), p=p))]][0]
            sizes = self.fits[(group.number, k)]
            return group, sizes[int(rng.integers(len(sizes)))], k
        uniform = self.config.symmetry_bias == 0 and self.config.group_prior == "point_group"
        # Uniform draws keep the integer draw so that runs made before symmetry_bias existed
        # (which drew uniformly) sample the same structures.
        k = int(rng.integers(len(self.options))) if uniform else int(rng.choice(len(self.options), p=probabilities))
        group, zs = self.options[k]
        return group, zs[int(rng.integers(len(zs)))], None

    def sample_one(self, rng: np.random.Generator, stats: SamplerStats | None = None) -> SymmetricStructure | None:
        """A structure in a randomly drawn group and cell size; None after `max_attempts` failed attempts."""
        tries = 0
        while tries < self.config.max_attempts:
            group, z, heights = self._draw(rng)
            structure = self.attempt(group, z, rng, stats, heights=heights)
            tries += self.config.lattice_tries
            if structure is not None:
                if stats is not None:
                    stats.structures += 1
                return structure
        if stats is not None:
            stats.gave_up += 1
        return None

    def sample(
        self, count: int, seed: int = 0, *, start: int = 0, stats: SamplerStats | None = None, progress: bool = False,
        desc: str = "sampling",
    ) -> list[tuple[int, SymmetricStructure]]:
        """Structures number start .. start+count-1 of the run `seed` (index, structure); failures are skipped."""
        from tqdm import tqdm

        out = []
        for i in tqdm(range(start, start + count), disable=not progress, desc=desc, unit="structure"):
            structure = self.sample_one(np.random.default_rng([seed, i]), stats)
            if structure is None:
                log.warning("structure %d: no valid placement after %d attempts", i, self.config.max_attempts)
                continue
            out.append((i, structure))
        return out
