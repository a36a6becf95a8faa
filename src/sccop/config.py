"""Configuration objects, one per pipeline stage; every field has a description."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


def _f(default, description: str, **kw):
    return field(default=default, metadata={"description": description}, **kw)


@dataclass(frozen=True)
class SamplerConfig:
    """Symmetric structure sampling (sccop.sampling)."""

    dim: int = _f(3, "3 for bulk crystals (230 space groups), 2 for layers (17 plane groups).")
    spacegroups: tuple[int, ...] | None = _f(
        None, "Allowed space groups (dim 3) or plane groups (dim 2); None allows all."
    )
    distance_factor: float = _f(
        0.7,
        "f in the distance rule d_ij >= f (r_i + r_j) with r the atomic radius. 0.7 sits about 10% below "
        "the smallest ratio in the reference prototypes (0.77, K2O2), so no known structure is excluded; "
        "see docs/benchmarks.md.",
    )
    grid_spacing: float = _f(
        0.5, "Grid spacing as a fraction of the mean bond length r_i + r_j over the composition's atoms."
    )
    uniform_share: float = _f(0.8, "Share of lattices from the uniform generator; the rest from the Gamma fits.")
    vacuum: float = _f(15.0, "2D only: vacuum thickness along c (Angstrom).")
    thickness: float = _f(0.0, "2D only: puckering thickness of the layer (Angstrom); 0 gives a flat layer.")
    max_nodes: int = _f(64, "Placements the tree search may try per attempt before giving up on it.")
    lattice_tries: int = _f(1, "Lattices tried for one Wyckoff assignment before drawing a new group.")
    max_attempts: int = _f(400, "Attempts (lattice + placement) per structure before the sampler gives up.")
    assignment_cap: int = _f(64, "Most Wyckoff assignments enumerated per group and cell size.")
    primitive: bool = _f(True, "Write primitive cells (False: conventional cells).")

    def describe(self) -> dict[str, str]:
        return {f.name: f.metadata["description"] for f in fields(self)}
