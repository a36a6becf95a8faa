"""Configuration objects, one per pipeline stage; every field has a description and what it may hold
(sccop.allowed), checked whenever a config is built: from TOML, the command line or Python. A bad value
is refused with one line naming the setting, the value and what is allowed, before any work."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from sccop.allowed import Allowed, cell_range, flag, integer, integers, number, numbers, pairs, text, texts
from sccop.errors import SccopInputError

BACKEND_NAMES = ("chgnet", "sevennet", "emt", "lj", "espresso", "vasp", "gpaw", "ase")  # sccop.backends.Backend
OPTIMIZERS = ("fire", "bfgs")
CLUSTERS = ("local", "slurm", "pbs")
WINDOW_RULES = ("span", "sccop", "dense", "regression")  # sccop.composition.volume_window
GROUP_PRIORS = ("point_group", "model")  # sccop.sampling.sampler, sccop.prior
LATTICE_SHAPES = ("narrow", "wide")  # sccop.sampling.lattice
LABEL_KINDS = ("single_point", "relaxation")
UNIT_LABEL_KINDS = ("single_point", "rigid")
# How big a cell is when neither atoms nor formula units are given: one rule, for sample and search
# (sccop.composition.cell_sizes applies it).
DEFAULT_CELL = ("the formula as written when it is not reduced (Ga4Os2: 2 formula units, 6 atoms), else whole "
                "formula units up to 8 atoms (one when the formula unit is bigger)")


def setting(default, description: str, allowed: Allowed | None = None, **kw):
    return field(default=default, metadata={"description": description, "allowed": allowed}, **kw)


class Section:
    """A config section: each field checked against what it may hold when the section is built."""

    NAME = ""

    def __post_init__(self):
        for f in fields(self):
            allowed = f.metadata.get("allowed")
            if allowed is not None:
                name = f"[{self.NAME}] {f.name}" if self.NAME else f.name
                object.__setattr__(self, f.name, allowed.check(getattr(self, f.name), name))
        self.check()

    def check(self) -> None:
        """Checks that involve several fields (after each field was checked alone)."""

    def describe(self) -> dict[str, str]:
        """field -> its description and what it may hold."""
        out = {}
        for f in fields(self):
            allowed = f.metadata.get("allowed")
            out[f.name] = f.metadata["description"] + (f" Allowed: {allowed.describe()}." if allowed else "")
        return out


@dataclass(frozen=True)
class SamplerConfig(Section):
    """Symmetric structure sampling (sccop.sampling)."""

    NAME = "sampler"

    dim: int = setting(
        3, "3 for bulk crystals (230 space groups), 2 for layers (80 layer groups; a flat layer: the 17 plane groups).",
        allowed=integer(choices=(2, 3)),
    )
    spacegroups: tuple[int, ...] | None = setting(
        None, "Allowed space groups (dim 3) or layer groups (dim 2, PyXtal's numbers 1-80); None allows all (a flat "
        "layer, thickness 0: the 17 layer groups that keep z, i.e. the plane groups).",
        allowed=integers(1, 230, optional=True, nonempty=True),
    )
    distance_factor: float = setting(
        0.7,
        "f in the distance rule d_ij >= f (r_i + r_j) with r the atomic radius. 0.7 sits about 10% below "
        "the smallest ratio in the reference prototypes (0.77, K2O2), so no known structure is excluded; "
        "see docs/benchmarks.md.",
        allowed=number(0.1, 1.5),
    )
    grid_spacing: float = setting(
        0.5, "Grid spacing as a fraction of the mean bond length r_i + r_j over the composition's atoms.",
        allowed=number(0.05, 2.0),
    )
    volume_window: str = setting(
        "span",
        "How the dense-packing and regression volume windows combine: span (from the lower to the higher "
        "end of both; holds 20 of the 22 reference prototypes), sccop (their intersection, SCCOP's rule; "
        "13 of 22), dense or regression. See docs/benchmarks.md.",
        allowed=text(choices=WINDOW_RULES),
    )
    symmetry_bias: float = setting(
        1.0,
        "Groups are drawn with probability proportional to (point-group order)^symmetry_bias among those "
        "that fit the composition: 0 draws them uniformly (P1 as often as Fm-3m), 1 draws a group of order "
        "48 48 times as often as P1. See docs/benchmarks.md.",
        allowed=number(0.0, 10.0),
    )
    orbit_bias: float = setting(
        0.0,
        "Within a group, Wyckoff assignments are drawn with weight exp(-orbit_bias * (orbits - the fewest orbits "
        "of that group's assignments)): Pauling's rule of parsimony (few kinds of site); above 0 the "
        "assignment_cap enumerated are also those with the fewest orbits. 0 draws them uniformly from a random "
        "enumeration.",
        allowed=number(0.0, 100.0),
    )
    group_prior: str = setting(
        "point_group", "How groups are weighted: point_group (by symmetry_bias alone) or model (mixed with the "
        "shipped composition -> space-group model, sccop predict-groups; 3D only). See docs/benchmarks.md.",
        allowed=text(choices=GROUP_PRIORS),
    )
    prior_weight: float = setting(
        0.5, "With group_prior = model: share of the group draw that follows the model; the rest follows the "
        "point-group weights, so every group that fits keeps a chance.",
        allowed=number(0.0, 1.0),
    )
    uniform_share: float = setting(
        0.8, "Share of lattices from the uniform generator; the rest from the Gamma fits.",
        allowed=number(0.0, 1.0),
    )
    lattice_shapes: str = setting(
        "narrow",
        "The uniform generator's shapes of tetragonal, hexagonal and trigonal cells: narrow (c / V^(1/3) uniform "
        "in 0.5-1.5, so c/a at most 1.84 (tetragonal) or 1.71 (hexagonal axes), a rhombohedral cell's angle at "
        "least 76 degrees) or wide (c / V^(1/3) log-uniform in 0.4-2.6 for primitive cells, the rhombohedral angle "
        "uniform in 25-110 degrees: layered cells and ilmenite, corundum or Bi2Te3 shapes). See docs/benchmarks.md.",
        allowed=text(choices=LATTICE_SHAPES),
    )
    vacuum: float = setting(15.0, "2D only: vacuum thickness along c (Angstrom).", allowed=number(0.0, 1000.0, above=True))
    area_window: str = setting(
        "sccop",
        "2D only: how the dense-packing and regression windows of the layer area combine (the rules of "
        "volume_window). sccop, their intersection, holds the areas of graphene, h-BN, phosphorene, silicene and "
        "honeycomb BC2N and is 5-10 times narrower than span; see docs/benchmarks.md.",
        allowed=text(choices=WINDOW_RULES),
    )
    flat_share: float = setting(
        0.3, "2D only, with a thickness: share of attempts that place every atom on the middle plane (a flat layer, "
        "in the plane groups); the rest use every height of the thickness window. See docs/benchmarks.md.",
        allowed=number(0.0, 1.0),
    )
    thickness: float | None = setting(
        None, "2D only: the thickness window of the layer (Angstrom): atoms are placed on heights within "
        "+-thickness/2 of its middle plane, in any of the 80 layer groups; 0 gives a flat layer in the 17 plane "
        "groups; None: 1.5 mean bond lengths (room for a buckled or three-plane layer such as MoS2).",
        allowed=number(0.0, 50.0, optional=True),
    )
    max_nodes: int = setting(
        64, "Placements the tree search may try per attempt before giving up on it.",
        allowed=integer(1, 10**6),
    )
    lattice_tries: int = setting(
        1, "Lattices tried for one Wyckoff assignment before drawing a new group.",
        allowed=integer(1, 1000),
    )
    max_attempts: int = setting(
        400, "Attempts (lattice + placement) per structure before the sampler gives up.",
        allowed=integer(1, 10**6),
    )
    assignment_cap: int = setting(
        64, "Most Wyckoff assignments enumerated per group and cell size.",
        allowed=integer(1, 10**5),
    )
    primitive: bool = setting(True, "Write primitive cells (False: conventional cells).", allowed=flag())

    def check(self) -> None:
        highest = 230 if self.dim == 3 else 80
        bad = [g for g in self.spacegroups or () if g > highest]
        if bad:
            kind = "space groups 1-230" if self.dim == 3 else "layer groups 1-80 (dim 2)"
            raise SccopInputError(f"[sampler] spacegroups holds {bad[0]}: allowed are the {kind}")


@dataclass(frozen=True)
class BackendConfig(Section):
    """Energy backend (sccop.backends): which calculator, with what settings."""

    NAME = "backend"

    name: str = setting(
        "chgnet", "Backend: chgnet, sevennet, emt, lj, espresso, vasp or gpaw; ase for a calculator given from Python.",
        allowed=text(choices=BACKEND_NAMES),
    )
    model: str | None = setting(
        None, "Model variant: for sevennet 7net-0 (default), 7net-l3i5 or 7net-mf-0 (give modal).",
        allowed=text(optional=True),
    )
    modal: str | None = setting(
        None, "Fidelity of a multi-fidelity model: PBE or R2SCAN for sevennet 7net-mf-0; None for the others.",
        allowed=text(optional=True),
    )
    calculator: str | None = setting(
        None, "Backend ase: the class (or function) of the ASE calculator given from Python, as recorded by the run.",
        allowed=text(optional=True),
    )
    device: str = setting(
        "cpu", "Torch device for ML potentials: cpu or cuda.",
        allowed=text(pattern=r"cpu|cuda(:\d+)?|mps", hint="cpu, cuda or cuda:1"),
    )
    batch_size: int = setting(
        16, "Most structures per batched ML call (single points and lockstep relaxations).",
        allowed=integer(1, 4096),
    )
    batch_atoms: int = setting(
        128,
        "Most atoms per batched ML call: on 2 CPU cores batching helps small cells (2.6x at 8 x 8 atoms) "
        "and hurts large batches (768 atoms ran 5x slower than one by one); see docs/benchmarks.md.",
        allowed=integer(1, 10**6),
    )
    timeout_s: float = setting(
        1800.0, "Wall-clock limit for one single point or one relaxation (seconds).",
        allowed=number(0.0, 10**7, above=True),
    )
    workdir: str | None = setting(
        None, "DFT: parent directory for calculation folders (default: a temporary one).",
        allowed=text(optional=True),
    )
    espresso_command: str = setting("pw.x", "Quantum ESPRESSO pw.x command (may include mpirun -np N).", allowed=text())
    pseudo_dir: str | None = setting(
        None, "Directory of UPF pseudopotentials (default: $ESPRESSO_PSEUDO or /usr/share/espresso/pseudo).",
        allowed=text(optional=True),
    )
    pseudopotentials: tuple[tuple[str, str], ...] = setting(
        (), "Element -> UPF file name pairs that override the automatic choice in pseudo_dir.",
        allowed=pairs(),
    )
    ecutwfc: float = setting(40.0, "Plane-wave cutoff for wavefunctions (Ry).", allowed=number(0.0, 10**4, above=True))
    ecutrho: float | None = setting(
        None, "Cutoff for the charge density (Ry); default 8 x ecutwfc.",
        allowed=number(0.0, 10**5, above=True, optional=True),
    )
    kspacing: float = setting(
        0.25, "DFT k-point spacing (1/Angstrom, 2 pi included) for the Monkhorst-Pack grid.",
        allowed=number(0.0, 10.0, above=True),
    )
    smearing: float = setting(0.01, "Marzari-Vanderbilt smearing width (Ry) for Quantum ESPRESSO.", allowed=number(0.0, 1.0))
    vasp_command: str | None = setting(
        None, "VASP command (default: $ASE_VASP_COMMAND or $VASP_COMMAND).",
        allowed=text(optional=True),
    )
    vasp_pp_path: str | None = setting(
        None, "Folder holding potpaw_PBE (default: $VASP_PP_PATH).",
        allowed=text(optional=True),
    )
    encut: float = setting(520.0, "VASP plane-wave cutoff (eV).", allowed=number(0.0, 10**4, above=True))
    gpaw_setup_path: str | None = setting(
        None, "GPAW: folder(s) of PAW setups, colon separated (default: $GPAW_SETUP_PATH or Debian's "
        "/usr/share/gpaw-setups).",
        allowed=text(optional=True),
    )


@dataclass(frozen=True)
class RelaxConfig(Section):
    """Relaxation (sccop.relaxation): optimizer, convergence, constraints and failure guards."""

    NAME = "relax"

    optimizer: str = setting("fire", "fire or bfgs (ASE optimizers).", allowed=text(choices=OPTIMIZERS))
    fmax: float = setting(
        0.05, "Converged when every generalised force is below this (eV/Angstrom).",
        allowed=number(0.0, 100.0, above=True),
    )
    steps: int = setting(500, "Most optimizer steps per relaxation.", allowed=integer(1, 10**6))
    pressure: float = setting(
        0.0, "External pressure (GPa) applied through the cell filter.",
        allowed=number(-1000.0, 10**4),
    )
    relax_cell: bool = setting(True, "Relax the cell with ASE's FrechetCellFilter (False: positions only).", allowed=flag())
    fix_symmetry: bool = setting(False, "Keep the starting symmetry with ASE's FixSymmetry.", allowed=flag())
    rigid_units: bool = setting(
        False, "Keep each rigid unit rigid: the atoms sharing a tag above 0 (sccop.units) move as one rigid "
        "body (sccop.rigid).", allowed=flag(),
    )
    rattle: float = setting(
        0.0,
        "Standard deviation (Angstrom) of random displacements given to the atoms before relaxing, so "
        "that a symmetric start can leave a saddle point of its group (e.g. bcc Cu -> fcc); 0: none. "
        "Not applied with fix_symmetry. The displacements are seeded by the structure itself, so the "
        "same structure is always displaced the same way.",
        allowed=number(0.0, 1.0),
    )
    symprec: float = setting(0.01, "Symmetry tolerance for FixSymmetry (Angstrom).", allowed=number(0.0, 1.0, above=True))
    min_distance: float = setting(0.5, "Fail when two atoms come closer than this (Angstrom).", allowed=number(0.0, 5.0))
    max_volume_ratio: float = setting(
        5.0, "Fail when the cell volume grows beyond this factor.",
        allowed=number(1.0, 1000.0, above=True),
    )
    min_bond_ratio: float = setting(
        0.6,
        "Fail a finished relaxation whose closest pair is nearer than this fraction of the sum of the two "
        "atoms' covalent radii (ASE's table): a potential that collapses the cell reaches energies far "
        "below any real structure and would be ranked first. Real bonds stay above about 0.75 (N2 0.77, "
        "CO 0.79); 0: off.",
        allowed=Allowed("float", 0.0, 0.99),
    )
    max_energy_below_reference: float = setting(
        3.0,
        "ML potentials on the PBE scale only (CHGNet; SevenNet 7net-0, 7net-l3i5, 7net-mf-0 at PBE): fail a "
        "call whose energy per atom lies more than this many "
        "eV below the mean of its atoms' element energies (CHGNet's AtomRef, sccop.backends.element_energies), "
        "checked at every step of a relaxation. A potential's energy hole (SevenNet answers of -1,000 eV/atom "
        "and below were seen) would otherwise be ranked first and swamp training; real crystals stay within "
        "about 1.7 eV/atom below it (CHGNet: ScN, ThO2). 0: off.",
        allowed=number(0.0, 10**6),
    )
    max_energy_above_reference: float = setting(
        30.0,
        "The same potentials: fail a single point or a finished relaxation whose energy per atom lies more than "
        "this many eV above the mean of its atoms' element energies (unphysical answers that would swamp "
        "training; CHGNet's labels stay within about 14 eV/atom above it). 0: off.",
        allowed=number(0.0, 10**6),
    )
    blas_threads: int = setting(
        1,
        "BLAS threads for the optimizer's and the cell filter's own steps (3x3 and 3N-vector algebra; the "
        "backend's calls keep the machine's threads); 0 keeps the machine's setting. More threads only add "
        "their start-up and, on shared cores, their waits (docs/benchmarks.md).",
        allowed=integer(0, 1024),
    )



@dataclass(frozen=True)
class GraphConfig(Section):
    """Crystal graphs (sccop.graph)."""

    NAME = "graph"

    neighbours: int = setting(
        12, "Nearest neighbours per node; atoms tied with the last one are all kept.",
        allowed=integer(1, 100),
    )
    cutoff: float = setting(8.0, "Largest neighbour distance (Angstrom).", allowed=number(0.0, 20.0, above=True))
    gaussian_step: float = setting(
        0.2, "Spacing of the Gaussian distance expansion centres, 0 to cutoff (Angstrom).",
        allowed=number(0.0, 5.0, above=True),
    )
    gaussian_width: float = setting(0.2, "Width of each Gaussian (Angstrom).", allowed=number(0.0, 5.0, above=True))
    tie_tolerance: float = setting(1e-4, "Distances closer than this count as tied (Angstrom).", allowed=number(0.0, 0.1))


@dataclass(frozen=True)
class ModelConfig(Section):
    """The CGCNN energy model (sccop.model)."""

    NAME = "model"

    atom_dim: int = setting(64, "Atom state size.", allowed=integer(1, 1024))
    n_conv: int = setting(3, "Gated graph convolutions.", allowed=integer(1, 20))
    crystal_dim: int = setting(128, "Crystal vector size (the landscape coordinates).", allowed=integer(1, 2048))


@dataclass(frozen=True)
class TrainConfig(Section):
    """Training the energy model during the run (sccop.model.train)."""

    NAME = "train"

    members: int = setting(3, "Ensemble members; their spread is the uncertainty.", allowed=integer(1, 50))
    epochs: int = setting(600, "Most epochs per member per round.", allowed=integer(1, 10**5))
    batch_size: int = setting(
        32, "Most structures per optimisation step; small data sets use smaller batches (8 steps per epoch, at least 8).",
        allowed=integer(1, 10**4),
    )
    learning_rate: float = setting(2e-3, "Adam learning rate.", allowed=number(0.0, 1.0, above=True))
    validation_fraction: float = setting(
        0.2, "Share of the data held out per member for early stopping.",
        allowed=number(0.0, 0.9, above=True),
    )
    patience: int = setting(60, "Epochs without a better validation loss before stopping.", allowed=integer(1, 10**6))
    outlier_sigma: float = setting(
        3.0, "Targets above mean + this many standard deviations are dropped.",
        allowed=number(0.0, 100.0, above=True),
    )
    max_seconds: float | None = setting(
        None,
        "Wall-clock cap for one round of training, all members together; None: off. Training stops on epochs and "
        "patience, so the same seed gives the same network on an idle or a busy machine; a cap breaks that and is "
        "logged when it bites.",
        allowed=number(0.0, 10**7, above=True, optional=True),
    )
    threads: int = setting(
        0,
        "Torch threads for the network (training and scoring); 0 keeps torch's setting. Set 1 when other "
        "processes share the cores: then one thread is 3x faster than two (docs/benchmarks.md).",
        allowed=integer(0, 1024),
    )


@dataclass(frozen=True)
class LandscapeConfig(Section):
    """Landscape partition and candidate selection (sccop.landscape)."""

    NAME = "landscape"

    components: int = setting(8, "KernelPCA components (rbf kernel) of the crystal vectors.", allowed=integer(1, 64))
    clusters: int = setting(10, "KMeans regions of the landscape.", allowed=integer(1, 1000))
    per_cluster: int = setting(3, "Representatives kept per region.", allowed=integer(1, 1000))
    vector_tolerance: float = setting(
        1e-3, "Crystal vectors closer than this (relative) are duplicates.",
        allowed=number(0.0, 1.0),
    )
    use_matcher: bool = setting(True, "Also merge duplicates with pymatgen's StructureMatcher.", allowed=flag())
    uncertainty_weight: float = setting(
        0.0, "kappa in the lower confidence bound E - kappa * sigma for selection.",
        allowed=number(0.0, 100.0),
    )
    family_cap: int = setting(
        0,
        "Most picks from one family (space group and Wyckoff assignment, elements included) in one selection: the "
        "labels of a learning iteration, and a round's relaxations (counting those made this round); the unlabelled "
        "pool joins the options so that other families can fill the picks. 0: no cap.",
        allowed=integer(0, 10**4),
    )


@dataclass(frozen=True)
class AnnealConfig(Section):
    """Simulated annealing on the asymmetric-unit grid (sccop.anneal)."""

    NAME = "anneal"

    t0: float = setting(
        0.1, "Starting temperature in predicted eV/atom (SCCOP used 1; tuned: benchmarks/anneal_tuning.py).",
        allowed=number(0.0, 100.0, above=True),
    )
    decay: float = setting(0.97, "Geometric cooling factor per step.", allowed=number(0.0, 1.0, above=True))
    steps: int = setting(75, "Steps per chain.", allowed=integer(0, 10**5))
    restarts: int = setting(10, "Chains run from each start.", allowed=integer(1, 1000))
    swap_share: float = setting(
        0.3, "Share of proposals that swap the elements of two orbits (else relocate one).",
        allowed=number(0.0, 1.0),
    )
    strain_share: float = setting(
        0.1, "Share of proposals that strain the lattice (0 keeps every chain's lattice).",
        allowed=number(0.0, 1.0),
    )
    strain_size: float = setting(
        0.03, "Largest relative change of a free cell length (and of a free angle, in radians).",
        allowed=number(0.0, 0.5),
    )
    max_volume_change: float = setting(
        0.3, "Strains keep the volume within this relative change of the chain's start.",
        allowed=number(0.0, 1.0),
    )
    proposal_tries: int = setting(
        20, "Proposals drawn per step until one keeps the distance rule (else the chain stays).",
        allowed=integer(1, 1000),
    )


@dataclass(frozen=True)
class SearchConfig(Section):
    """The search loop (sccop.loop): rounds, budgets and how many structures each stage handles."""

    NAME = "search"

    rounds: int = setting(3, "Most rounds (sample, label, learn, anneal, relax).", allowed=integer(1, 10**6))
    budget_calls: int | None = setting(
        None, "Stop once this many backend calls (single points + relaxations) are made.",
        allowed=integer(1, 10**9, optional=True),
    )
    budget_minutes: float | None = setting(
        None, "Stop after this many minutes of search (summed over resumed runs).",
        allowed=number(0.0, 10**8, above=True, optional=True),
    )
    samples: int = setting(200, "Structures sampled per round (the pool the network scores).", allowed=integer(1, 10**5))
    initial_labels: int = setting(
        30, "Round 0: random samples labelled by the backend before the first training.",
        allowed=integer(4, 10**5),
    )
    iterations: int = setting(
        2, "Learning iterations per round: score, partition, anneal, select, label, retrain.",
        allowed=integer(0, 1000),
    )
    per_iteration: int = setting(15, "Structures the backend labels per learning iteration.", allowed=integer(1, 10**4))
    explore_share: float = setting(
        0.5, "Share of annealing starts taken from every landscape region; the rest are the lowest labelled.",
        allowed=number(0.0, 1.0),
    )
    starts: int = setting(10, "Annealing starts per learning iteration.", allowed=integer(1, 10**4))
    relax_top: int = setting(
        5, "Lowest labelled, not yet relaxed, unique structures relaxed by the backend per round (none are left "
        "with label_with = relaxation).",
        allowed=integer(1, 10**4),
    )
    relax_each: int = setting(
        0,
        "Lowest labelled, not yet relaxed, unique structures relaxed right after the initial labels and after "
        "each learning iteration but a round's last, within the label budget (0: relax only at the round's end).",
        allowed=integer(0, 10**4),
    )
    screen: int = setting(
        1,
        "Screening before relaxing: for each relaxation a round (relax_top, relax_each) this many of the lowest "
        "unique labels are relaxed for screen_steps steps first, and the lowest of them after those steps are "
        "relaxed in full, from where the screen stopped (1: no screening; only with label_with = single_point).",
        allowed=integer(1, 100),
    )
    screen_steps: int = setting(
        5, "Optimizer steps of a screening relaxation (see screen).", allowed=integer(1, 10**4),
    )
    label_with: str = setting(
        "single_point",
        "How the backend labels the structures the network learns from: single_point (the sampled structure's "
        "energy; the lowest are relaxed at the round's end) or relaxation (each is relaxed and labelled with its "
        "relaxed energy, so the network learns where a structure relaxes to and every label is a relaxed result).",
        allowed=text(choices=LABEL_KINDS),
    )
    learn_frames: int = setting(
        0,
        "Structures of each label's relaxation path (at a round's end, or with relax_each) that the network learns "
        "from, with their energies: evenly spaced steps after the start, the relaxed one last; they join the labels "
        "from the next training on. "
        "0: the network learns from the labels alone. Only with label_with = single_point.",
        allowed=integer(0, 1000),
    )
    seed_structures: int = setting(
        3, "Relaxed structures whose group and lattice seed the next round's sampling.",
        allowed=integer(0, 1000),
    )
    seed_samples: int = setting(20, "Samples drawn on each seed structure's lattice.", allowed=integer(0, 10**4))
    seeds: str | None = setting(
        None, "A user's seed structures (a CIF/POSCAR/extxyz file, a folder of them, or an ASE database): labelled and "
        "relaxed first, ranked with the rest, and their lattices and Wyckoff sets seed the sampler from round 0.",
        allowed=text(optional=True),
    )
    tolerance: float = setting(
        0.001, "Convergence: best energy changes below this (eV/atom) count as unchanged.",
        allowed=number(0.0, 10.0),
    )
    patience: int = setting(
        2, "Convergence: stop when the best energy is unchanged for this many rounds.",
        allowed=integer(1, 10**6),
    )
    top: int = setting(10, "Unique relaxed structures written to DIR/best and DIR/summary.csv.", allowed=integer(1, 1000))
    chunk: int = setting(
        8, "Backend calls written to the database together (a crash loses at most one chunk).",
        allowed=integer(1, 10**4),
    )

    def check(self) -> None:
        if self.learn_frames and self.label_with != "single_point":
            raise SccopInputError(f"[search] learn_frames = {self.learn_frames} needs label_with = 'single_point': "
                                  f"with {self.label_with} labels the network learns relaxed energies, not a path's")
        if self.screen > 1 and self.label_with != "single_point":
            raise SccopInputError(f"[search] screen = {self.screen} needs label_with = 'single_point': "
                                  f"with {self.label_with} labels every label is relaxed in full already")


@dataclass(frozen=True)
class RefineConfig(Section):
    """Final refinement (sccop.answer): symmetrise and re-relax, merge duplicates, re-rank."""

    NAME = "refine"

    symmetrize: bool = setting(
        True, "Symmetrise the best relaxed structures and re-relax them under FixSymmetry.",
        allowed=flag(),
    )
    tolerances: tuple[float, ...] = setting(
        (0.01, 0.05, 0.1, 0.2, 0.3, 0.5), "Symmetry tolerances (Angstrom) at which each candidate is symmetrised.",
        allowed=numbers(0.0, 2.0, above=True, nonempty=True),
    )
    energy_tolerance: float = setting(
        0.002,
        "A symmetrised version replaces the relaxed structure when its energy per atom is at most this much "
        "higher (eV/atom); the highest-symmetry such version wins.",
        allowed=number(0.0, 1.0),
    )
    top: int = setting(10, "Lowest unique relaxed structures that are symmetrised.", allowed=integer(1, 1000))
    prefer_symmetry: bool = setting(
        True,
        "Rank ties by symmetry: of the candidates within energy_tolerance of the lowest one left, the one with "
        "the highest point-group order comes first where the lowest one's space group is a subgroup of its own "
        "(polytypes such as hcp and fcc go by energy), and duplicates are reported as their most symmetric "
        "member within energy_tolerance of the lowest (False: by energy alone).",
        allowed=flag(),
    )
    rerank: str | None = setting(
        None, "Second backend that relaxes the final candidates and ranks them (e.g. sevennet, espresso); None: off.",
        allowed=text(choices=BACKEND_NAMES, optional=True),
    )
    rerank_model: str | None = setting(
        None, "Model variant of the re-ranking backend (e.g. 7net-l3i5).",
        allowed=text(optional=True),
    )
    rerank_modal: str | None = setting(
        None, "Fidelity of the re-ranking backend's model where it has several (7net-mf-0: PBE or R2SCAN).",
        allowed=text(optional=True),
    )
    rerank_top: int = setting(10, "Unique candidates relaxed by the re-ranking backend.", allowed=integer(1, 1000))
    formation: str = setting(
        "auto",
        "Formation energies in the summary (per atom and, for a layer, per area) against elemental references "
        "relaxed by the backend (each element's lowest of fcc, bcc, hcp, simple cubic, diamond, graphite, its ASE "
        "reference state and the dimer; sccop.answer.references): auto (layers only), on or off.",
        allowed=text(choices=("auto", "on", "off")),
    )


@dataclass(frozen=True)
class ExecutionConfig(Section):
    """Where backend calls run (sccop.calls.execution); the main process is always the only database writer."""

    NAME = "execution"

    workers: int = setting(1, "Local Dask worker processes (1: everything in this process).", allowed=integer(1, 1024))
    cluster: str = setting("local", "local, slurm or pbs (dask-jobqueue).", allowed=text(choices=CLUSTERS))
    jobs: int = setting(1, "slurm/pbs: batch jobs to start.", allowed=integer(1, 10**4))
    processes: int = setting(
        1, "slurm/pbs: Dask worker processes per job (1: one worker per job, with all the job's cores).",
        allowed=integer(1, 256),
    )
    queue: str | None = setting(None, "slurm/pbs: queue or partition.", allowed=text(optional=True))
    account: str | None = setting(None, "slurm/pbs: account (project) the jobs are charged to.", allowed=text(optional=True))
    cores: int = setting(1, "slurm/pbs: cores per job.", allowed=integer(1, 1024))
    memory: str = setting("4GB", "slurm/pbs: memory per job.", allowed=text(pattern=r"\d+(\.\d+)?\s*[KMGT]i?B", hint="4GB"))
    walltime: str = setting(
        "02:00:00", "slurm/pbs: wall time per job.",
        allowed=text(pattern=r"(\d+-)?\d{1,3}:\d\d(:\d\d)?", hint="02:00:00"),
    )
    prologue: tuple[str, ...] = setting(
        (), "slurm/pbs: shell lines run in the job script before the worker starts, e.g. "
        "['module load gcc', 'source ~/venvs/sccop/bin/activate'].",
        allowed=texts(),
    )
    python: str | None = setting(
        None, "slurm/pbs: the Python the jobs start the worker with (default: the one running sccop).",
        allowed=text(optional=True),
    )
    interface: str | None = setting(
        None, "slurm/pbs: network interface the scheduler and workers talk over, e.g. ib0 (default: dask's choice).",
        allowed=text(optional=True),
    )
    local_directory: str | None = setting(
        None, "slurm/pbs: a node-local scratch folder for the workers' files, e.g. $TMPDIR.", allowed=text(optional=True)
    )
    log_directory: str | None = setting(
        None, "slurm/pbs: folder for the jobs' output and error files (default: the submitting folder).",
        allowed=text(optional=True),
    )
    extra_directives: tuple[str, ...] = setting(
        (), "slurm/pbs: extra #SBATCH/#PBS lines, e.g. ['--constraint=skylake'].",
        allowed=texts(),
    )
    worker_timeout: float = setting(
        600.0, "slurm/pbs: seconds to wait for the first worker before the run stops with the reason.",
        allowed=number(1.0, 10**6),
    )
    retries: int = setting(2, "Times a task is resubmitted when its worker dies.", allowed=integer(0, 100))


@dataclass(frozen=True)
class StoreConfig(Section):
    """The run's database (sccop.calls.store): a SQLite file in DIR, or a shared PostgreSQL server."""

    NAME = "store"

    url: str | None = setting(
        None, "Database URL: none for DIR/sccop.db (SQLite), or postgresql://user@host:port/database for a server "
        "that several runs share (the password from PGPASSWORD or ~/.pgpass, never in this file).",
        allowed=text(optional=True, pattern=r"postgresql://[^\s:@/]+(@[^\s/]+)?/[^\s/]+", hint="postgresql://me@host/runs"),
    )
    run: str | None = setting(
        None, "On a shared server: this run's id, which every row carries so that no run reads another's "
        "(default: the run folder's absolute path).",
        allowed=text(optional=True),
    )


@dataclass(frozen=True)
class OrderingConfig(Section):
    """Ordering on a fixed lattice (sccop.ordering): the template, its sublattices, and the loop that orders
    the composition's species and vacancies on them."""

    NAME = "ordering"

    template: str | None = setting(
        None, "Structure file (CIF, POSCAR, extxyz) whose sites the composition is ordered on; none: a search over "
        "space groups.", allowed=text(optional=True),
    )
    sites: str | None = setting(
        None, "The sublattices: template species whose sites are ordered, e.g. \"Cu,In\", and optionally the species "
        "each holds, e.g. \"Ga=Ga,Zn;N=N,O\" (default: every site, one sublattice).", allowed=text(optional=True),
    )
    supercell: str | None = setting(None, "Repeat of the template, e.g. 2x1x1 (or pick one by atoms).",
                                    allowed=text(optional=True, pattern=r"\s*\d+\s*[xX*]\s*\d+\s*[xX*]\s*\d+\s*",
                                                 hint="2x1x1"))
    rounds: int = setting(5, "Rounds: label (random in round 0), train, anneal, select (SCCOP: 5).",
                          allowed=integer(1, 10**4))
    labels: int = setting(30, "Arrangements the backend labels per round (SCCOP: 30 single points).",
                          allowed=integer(1, 10**5))
    chains: int = setting(16, "Annealing chains per round (half from the lowest labels, half random).",
                          allowed=integer(1, 10**4))
    steps: int = setting(300, "Swap proposals per chain.", allowed=integer(0, 10**6))
    t0: float = setting(0.02, "Starting temperature in predicted eV/atom (cooling by 0.99 a step).",
                        allowed=number(0.0, 100.0, above=True))
    kappa: float = setting(1.0, "Selection by the lower bound mean - kappa * spread of the ensemble.",
                           allowed=number(0.0, 100.0))
    prior: str = setting(
        "valence", "What round 0 labels: valence (the arrangements that keep Pauling's electrostatic valence rule "
        "best, with pymatgen's guessed oxidation states; random when it has none) or random. See "
        "docs/benchmarks.md.", allowed=text(choices=("valence", "random")),
    )


@dataclass(frozen=True)
class UnitsConfig(Section):
    """Rigid units (sccop.units): clusters and molecules placed whole, SCCOP's two steps (a rigid-unit search
    and relaxation, then a free relaxation of the best)."""

    NAME = "units"

    spec: str | None = setting(
        None, "The units, comma separated, each NAME or NAME:N: a built-in cluster (B12), a structure file, an ASE g2 "
        "molecule (CO2, H2O, CH3NH2, ...) or a molecule of PyXtal's collection; without N, as many as the cell holds; "
        "atoms left over are free. None: an atom-wise search.", allowed=text(optional=True),
    )
    rounds: int = setting(4, "Rounds: label (random in round 0), train, anneal, select.", allowed=integer(1, 10**4))
    samples: int = setting(300, "Unit crystals sampled per round (the pool the network scores).",
                           allowed=integer(1, 10**5))
    initial: int = setting(30, "Round 0: random samples labelled before the first training.", allowed=integer(4, 10**5))
    labels: int = setting(15, "Structures the backend labels per later round.", allowed=integer(1, 10**5))
    chains: int = setting(8, "Annealing chains per round, from the pool's lowest predictions.", allowed=integer(0, 10**4))
    steps: int = setting(60, "Moves per chain (shift, turn, scale, swap; Metropolis on the network).",
                         allowed=integer(0, 10**6))
    t0: float = setting(0.02, "Annealing temperature in predicted eV/atom.", allowed=number(0.0, 100.0, above=True))
    kappa: float = setting(1.0, "Selection by the lower bound mean - kappa * spread of the ensemble.",
                           allowed=number(0.0, 100.0))
    label_with: str = setting(
        "single_point",
        "How the backend labels unit crystals: single_point (the sampled crystal's energy) or rigid (a short "
        "relaxation with every unit rigid, at most label_steps steps, labelled with its final energy: the network "
        "learns the energy of the packing a crystal settles into, and step 1 continues from there).",
        allowed=text(choices=UNIT_LABEL_KINDS),
    )
    label_steps: int = setting(40, "Most optimizer steps of a rigid label (label_with = rigid).",
                               allowed=integer(1, 10**5))
    rigid_top: int = setting(
        5, "Step 1: the lowest label of each of the lowest groups, relaxed with every unit rigid (docs/benchmarks.md, "
        "\"Rigid units\").", allowed=integer(1, 10**4),
    )
    free_top: int = setting(
        3, "Step 2: the lowest rigid relaxations relaxed again with every atom free.", allowed=integer(0, 10**4),
    )
    rigid_turn: float = setting(
        8.0, "Step 1 starts from each pick with every unit turned by a random angle (Gaussian, degrees) and the cell "
        "strained by rigid_strain, so that the rigid relaxation can leave the symmetry it was drawn in (an fcc "
        "packing of B12 reaches alpha-boron); 0 with rigid_strain 0: the picks as they are.",
        allowed=number(0.0, 180.0),
    )
    rigid_strain: float = setting(0.03, "Step 1: random symmetric cell strain (Gaussian components) of each pick.",
                                  allowed=number(0.0, 0.5))


@dataclass(frozen=True)
class RunConfig(Section):
    """Everything one `sccop search` run needs; written to DIR/config.toml."""

    NAME = ""

    composition: str = setting("", "Chemical formula, e.g. Mg2SiO4.", allowed=text(blank=True, optional=True))
    atoms: str | None = setting(
        None, f"Atoms per primitive cell, N or A-B (whole formula units only); default: {DEFAULT_CELL}.",
        allowed=cell_range(),
    )
    formula_units: str | None = setting(
        None, f"Formula units per primitive cell, N or A-B; default: {DEFAULT_CELL}.",
        allowed=cell_range(),
    )
    seed: int = setting(0, "Random seed: the same seed and inputs give the same result.", allowed=integer(0, 2**32 - 1))
    sampler: SamplerConfig = setting(None, "Sampling.", allowed=None)
    backend: BackendConfig = setting(None, "Energy backend.", allowed=None)
    relax: RelaxConfig = setting(None, "Relaxations.", allowed=None)
    graph: GraphConfig = setting(None, "Crystal graphs.", allowed=None)
    model: ModelConfig = setting(None, "Network.", allowed=None)
    train: TrainConfig = setting(None, "Training.", allowed=None)
    landscape: LandscapeConfig = setting(None, "Landscape partition and selection.", allowed=None)
    anneal: AnnealConfig = setting(None, "Simulated annealing.", allowed=None)
    search: SearchConfig = setting(None, "The loop.", allowed=None)
    refine: RefineConfig = setting(None, "Final refinement and re-ranking.", allowed=None)
    execution: ExecutionConfig = setting(None, "Where backend calls run.", allowed=None)
    store: StoreConfig = setting(None, "The run's database.", allowed=None)
    ordering: OrderingConfig = setting(None, "Ordering on a fixed lattice.", allowed=None)
    units: UnitsConfig = setting(None, "Rigid units.", allowed=None)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in SECTIONS:
                value = getattr(self, f.name)
                if value is None:
                    object.__setattr__(self, f.name, SECTIONS[f.name]())
                elif not isinstance(value, SECTIONS[f.name]):
                    raise SccopInputError(f"{f.name} must be a {SECTIONS[f.name].__name__}, got {type(value).__name__}")
        super().__post_init__()


SECTIONS = {
    "sampler": SamplerConfig,
    "backend": BackendConfig,
    "relax": RelaxConfig,
    "graph": GraphConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "landscape": LandscapeConfig,
    "anneal": AnnealConfig,
    "search": SearchConfig,
    "refine": RefineConfig,
    "execution": ExecutionConfig,
    "store": StoreConfig,
    "ordering": OrderingConfig,
    "units": UnitsConfig,
}
# Keys a resumed run may change: they decide when to stop or what is done after the search, not what
# the search computes (refinement rows are named by tolerance and backend, so new settings add rows).
RESUMABLE_CHANGES = {("search", "rounds"), ("search", "budget_calls"), ("search", "budget_minutes"), ("train", "threads"),
                     ("train", "max_seconds"), ("relax", "blas_threads")} | {
    ("execution", f.name) for f in fields(ExecutionConfig)
} | {("refine", f.name) for f in fields(RefineConfig)}


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def to_dict(config: RunConfig) -> dict:
    """Nested plain dict (TOML-ready: None values left out)."""
    out: dict = {}
    for f in fields(config):
        value = getattr(config, f.name)
        if f.name in SECTIONS:
            out[f.name] = {g.name: _plain(getattr(value, g.name)) for g in fields(value) if getattr(value, g.name) is not None}
        elif value is not None:
            out[f.name] = value
    return out


def _section(cls, values: dict, name: str):
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        from sccop.errors import SccopInputError

        raise SccopInputError(f"unknown setting(s) in [{name}]: {', '.join(unknown)} (known: {', '.join(known)})")
    kwargs = {}
    for key, value in values.items():
        if isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        kwargs[key] = value
    return cls(**kwargs)


def from_dict(data: dict) -> RunConfig:
    """RunConfig from a nested dict (e.g. a parsed TOML file); unknown keys are errors naming them."""
    from sccop.errors import SccopInputError

    top = {f.name for f in fields(RunConfig)}
    unknown = sorted(set(data) - top)
    if unknown:
        raise SccopInputError(f"unknown setting(s): {', '.join(unknown)} (known: {', '.join(sorted(top))})")
    kwargs = {}
    for key, value in data.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise SccopInputError(f"[{key}] must be a table of settings")
            kwargs[key] = _section(SECTIONS[key], value, key)
        else:
            kwargs[key] = value
    return RunConfig(**kwargs)


# Settings added with a default that behaves differently from the versions before them: a config
# written before the setting existed ran with this value, not with today's default.
EARLIER_BEHAVIOUR = {("sampler", "symmetry_bias"): 0.0, ("ordering", "prior"): "random"}


# Sections added after runs were made: an older folder's config lacks them, and they are filled in at their
# defaults (other sections may be left out on purpose, e.g. by the bench).
ADDED_SECTIONS = {"ordering"}


def with_new_defaults(old: dict) -> dict:
    """A `to_dict` result written by an older version, with the settings added since filled in (so a
    run or bench made before a setting existed resumes as long as the new setting is left alone).

    A setting is filled in at its default, or at the value that reproduces what the older version did
    where the default changed behaviour (EARLIER_BEHAVIOUR): resuming such a folder then asks for that
    value to be set explicitly instead of silently mixing two samplers in one run.
    """
    defaults = to_dict(RunConfig())
    out = dict(old)
    for name, section in defaults.items():
        if name in ADDED_SECTIONS and name not in out:  # a section added since
            out[name] = dict(section)
        elif name in SECTIONS and isinstance(out.get(name), dict):
            earlier = {key: value for (sec, key), value in EARLIER_BEHAVIOUR.items() if sec == name}
            out[name] = {**section, **earlier, **out[name]}
    return out


def setting_differences(old: dict, new: dict, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object, object]]:
    """(path, old value, new value) for every setting that differs between two nested dicts."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) or isinstance(b, dict):
            out += setting_differences(a or {}, b or {}, (*path, key))
        elif a != b:
            out.append(((*path, key), a, b))
    return out


def describe_differences(differences) -> list[str]:
    """'section.key: old -> new' for each of `setting_differences`."""
    return [f"{'.'.join(path)}: {a!r} -> {b!r}" for path, a, b in differences]


def config_changes(old: dict, new: dict) -> list[str]:
    """Settings that differ between two `to_dict` results, as 'section.key: old -> new', less the ones a
    resumed run may change; settings added after `old` was written count at their defaults."""
    differences = setting_differences(with_new_defaults(old), new)
    return describe_differences(d for d in differences if d[0][:2] not in RESUMABLE_CHANGES)
