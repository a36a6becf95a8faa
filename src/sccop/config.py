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


@dataclass(frozen=True)
class BackendConfig:
    """Energy backend (sccop.backends): which calculator, with what settings."""

    name: str = _f("chgnet", "Backend: chgnet, sevennet, emt, lj, espresso, vasp or gpaw.")
    model: str | None = _f(None, "Model variant: for sevennet 7net-0 (default) or 7net-l3i5.")
    device: str = _f("cpu", "Torch device for ML potentials: cpu or cuda.")
    batch_size: int = _f(16, "Most structures per batched ML call (single points and lockstep relaxations).")
    batch_atoms: int = _f(
        128,
        "Most atoms per batched ML call: on 2 CPU cores batching helps small cells (2.6x at 8 x 8 atoms) "
        "and hurts large batches (768 atoms ran 5x slower than one by one); see docs/benchmarks.md.",
    )
    timeout_s: float = _f(1800.0, "Wall-clock limit for one single point or one relaxation (seconds).")
    workdir: str | None = _f(None, "DFT: parent directory for calculation folders (default: a temporary one).")
    espresso_command: str = _f("pw.x", "Quantum ESPRESSO pw.x command (may include mpirun -np N).")
    pseudo_dir: str | None = _f(
        None, "Directory of UPF pseudopotentials (default: $ESPRESSO_PSEUDO or /usr/share/espresso/pseudo)."
    )
    pseudopotentials: tuple[tuple[str, str], ...] = _f(
        (), "Element -> UPF file name pairs that override the automatic choice in pseudo_dir."
    )
    ecutwfc: float = _f(40.0, "Plane-wave cutoff for wavefunctions (Ry).")
    ecutrho: float | None = _f(None, "Cutoff for the charge density (Ry); default 8 x ecutwfc.")
    kspacing: float = _f(0.25, "DFT k-point spacing (1/Angstrom, 2 pi included) for the Monkhorst-Pack grid.")
    smearing: float = _f(0.01, "Marzari-Vanderbilt smearing width (Ry) for Quantum ESPRESSO.")
    vasp_command: str | None = _f(None, "VASP command (default: $ASE_VASP_COMMAND or $VASP_COMMAND).")
    vasp_pp_path: str | None = _f(None, "Folder holding potpaw_PBE (default: $VASP_PP_PATH).")
    encut: float = _f(520.0, "VASP plane-wave cutoff (eV).")


@dataclass(frozen=True)
class RelaxConfig:
    """Relaxation (sccop.relax): optimizer, convergence, constraints and failure guards."""

    optimizer: str = _f("fire", "fire or bfgs (ASE optimizers).")
    fmax: float = _f(0.05, "Converged when every generalised force is below this (eV/Angstrom).")
    steps: int = _f(500, "Most optimizer steps per relaxation.")
    pressure: float = _f(0.0, "External pressure (GPa) applied through the cell filter.")
    relax_cell: bool = _f(True, "Relax the cell with ASE's FrechetCellFilter (False: positions only).")
    fix_symmetry: bool = _f(False, "Keep the starting symmetry with ASE's FixSymmetry.")
    symprec: float = _f(0.01, "Symmetry tolerance for FixSymmetry (Angstrom).")
    min_distance: float = _f(0.5, "Fail when two atoms come closer than this (Angstrom).")
    max_volume_ratio: float = _f(5.0, "Fail when the cell volume grows beyond this factor.")


@dataclass(frozen=True)
class GraphConfig:
    """Crystal graphs (sccop.graph)."""

    neighbours: int = _f(12, "Nearest neighbours per node; atoms tied with the last one are all kept.")
    cutoff: float = _f(8.0, "Largest neighbour distance (Angstrom).")
    gaussian_step: float = _f(0.2, "Spacing of the Gaussian distance expansion centres, 0 to cutoff (Angstrom).")
    gaussian_width: float = _f(0.2, "Width of each Gaussian (Angstrom).")
    tie_tolerance: float = _f(1e-4, "Distances closer than this count as tied (Angstrom).")


@dataclass(frozen=True)
class ModelConfig:
    """The CGCNN energy model (sccop.model)."""

    atom_dim: int = _f(64, "Atom state size.")
    n_conv: int = _f(3, "Gated graph convolutions.")
    crystal_dim: int = _f(128, "Crystal vector size (the landscape coordinates).")


@dataclass(frozen=True)
class TrainConfig:
    """Training the energy model during the run (sccop.model.train)."""

    members: int = _f(3, "Ensemble members; their spread is the uncertainty.")
    epochs: int = _f(600, "Most epochs per member per round.")
    batch_size: int = _f(
        32, "Most structures per optimisation step; small data sets use smaller batches (8 steps per epoch, at least 8)."
    )
    learning_rate: float = _f(2e-3, "Adam learning rate.")
    validation_fraction: float = _f(0.2, "Share of the data held out per member for early stopping.")
    patience: int = _f(60, "Epochs without a better validation loss before stopping.")
    outlier_sigma: float = _f(3.0, "Targets above mean + this many standard deviations are dropped.")
    max_seconds: float = _f(120.0, "Wall-clock bound for one round of training, all members together.")


@dataclass(frozen=True)
class LandscapeConfig:
    """Landscape partition and candidate selection (sccop.landscape)."""

    components: int = _f(8, "KernelPCA components (rbf kernel) of the crystal vectors.")
    clusters: int = _f(10, "KMeans regions of the landscape.")
    per_cluster: int = _f(3, "Representatives kept per region.")
    vector_tolerance: float = _f(1e-3, "Crystal vectors closer than this (relative) are duplicates.")
    use_matcher: bool = _f(True, "Also merge duplicates with pymatgen's StructureMatcher.")
    uncertainty_weight: float = _f(0.0, "kappa in the lower confidence bound E - kappa * sigma for selection.")


@dataclass(frozen=True)
class AnnealConfig:
    """Simulated annealing on the asymmetric-unit grid (sccop.anneal)."""

    t0: float = _f(0.1, "Starting temperature in predicted eV/atom (SCCOP used 1; tuned: benchmarks/anneal_tuning.py).")
    decay: float = _f(0.97, "Geometric cooling factor per step.")
    steps: int = _f(75, "Steps per chain.")
    restarts: int = _f(10, "Chains run from each start.")
    swap_share: float = _f(0.3, "Share of proposals that swap the elements of two orbits (else relocate one).")
    strain_share: float = _f(0.1, "Share of proposals that strain the lattice (0 keeps every chain's lattice).")
    strain_size: float = _f(0.03, "Largest relative change of a free cell length (and of a free angle, in radians).")
    max_volume_change: float = _f(0.3, "Strains keep the volume within this relative change of the chain's start.")
    proposal_tries: int = _f(20, "Proposals drawn per step until one keeps the distance rule (else the chain stays).")
