"""Configuration objects, one per pipeline stage; every field has a description."""

from __future__ import annotations

import math
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
    volume_window: str = _f(
        "span",
        "How the dense-packing and regression volume windows combine: span (from the lower to the higher "
        "end of both; holds 20 of the 22 reference prototypes), sccop (their intersection, SCCOP's rule; "
        "13 of 22), dense or regression. See docs/benchmarks.md.",
    )
    symmetry_bias: float = _f(
        1.0,
        "Groups are drawn with probability proportional to (point-group order)^symmetry_bias among those "
        "that fit the composition: 0 draws them uniformly (P1 as often as Fm-3m), 1 draws a group of order "
        "48 48 times as often as P1. See docs/benchmarks.md.",
    )
    uniform_share: float = _f(0.8, "Share of lattices from the uniform generator; the rest from the Gamma fits.")
    vacuum: float = _f(15.0, "2D only: vacuum thickness along c (Angstrom).")
    thickness: float = _f(0.0, "2D only: puckering thickness of the layer (Angstrom); 0 gives a flat layer.")
    max_nodes: int = _f(64, "Placements the tree search may try per attempt before giving up on it.")
    lattice_tries: int = _f(1, "Lattices tried for one Wyckoff assignment before drawing a new group.")
    max_attempts: int = _f(400, "Attempts (lattice + placement) per structure before the sampler gives up.")
    assignment_cap: int = _f(64, "Most Wyckoff assignments enumerated per group and cell size.")
    primitive: bool = _f(True, "Write primitive cells (False: conventional cells).")

    def __post_init__(self):
        if not (math.isfinite(self.symmetry_bias) and self.symmetry_bias >= 0):
            from sccop.errors import SccopInputError

            raise SccopInputError(f"symmetry_bias must be a number >= 0, got {self.symmetry_bias}")

    def describe(self) -> dict[str, str]:
        return {f.name: f.metadata["description"] for f in fields(self)}


@dataclass(frozen=True)
class BackendConfig:
    """Energy backend (sccop.backends): which calculator, with what settings."""

    name: str = _f(
        "chgnet", "Backend: chgnet, sevennet, emt, lj, espresso, vasp or gpaw; ase for a calculator given from Python."
    )
    model: str | None = _f(None, "Model variant: for sevennet 7net-0 (default) or 7net-l3i5.")
    calculator: str | None = _f(
        None, "Backend ase: the class (or function) of the ASE calculator given from Python, as recorded by the run."
    )
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
    """Relaxation (sccop.relaxation): optimizer, convergence, constraints and failure guards."""

    optimizer: str = _f("fire", "fire or bfgs (ASE optimizers).")
    fmax: float = _f(0.05, "Converged when every generalised force is below this (eV/Angstrom).")
    steps: int = _f(500, "Most optimizer steps per relaxation.")
    pressure: float = _f(0.0, "External pressure (GPa) applied through the cell filter.")
    relax_cell: bool = _f(True, "Relax the cell with ASE's FrechetCellFilter (False: positions only).")
    fix_symmetry: bool = _f(False, "Keep the starting symmetry with ASE's FixSymmetry.")
    rattle: float = _f(
        0.0,
        "Standard deviation (Angstrom) of random displacements given to the atoms before relaxing, so "
        "that a symmetric start can leave a saddle point of its group (e.g. bcc Cu -> fcc); 0: none. "
        "Not applied with fix_symmetry. The displacements are seeded by the structure itself, so the "
        "same structure is always displaced the same way.",
    )
    symprec: float = _f(0.01, "Symmetry tolerance for FixSymmetry (Angstrom).")
    min_distance: float = _f(0.5, "Fail when two atoms come closer than this (Angstrom).")
    max_volume_ratio: float = _f(5.0, "Fail when the cell volume grows beyond this factor.")
    min_bond_ratio: float = _f(
        0.6,
        "Fail a finished relaxation whose closest pair is nearer than this fraction of the sum of the two "
        "atoms' covalent radii (ASE's table): a potential that collapses the cell reaches energies far "
        "below any real structure and would be ranked first. Real bonds stay above about 0.75 (N2 0.77, "
        "CO 0.79); 0: off.",
    )

    def __post_init__(self):
        if not (math.isfinite(self.rattle) and self.rattle >= 0):
            from sccop.errors import SccopInputError

            raise SccopInputError(f"rattle must be a distance >= 0 (Angstrom), got {self.rattle}")
        if not (math.isfinite(self.min_bond_ratio) and 0 <= self.min_bond_ratio < 1):
            from sccop.errors import SccopInputError

            raise SccopInputError(f"min_bond_ratio must be in [0, 1), got {self.min_bond_ratio}")


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
    max_seconds: float | None = _f(
        None,
        "Wall-clock cap for one round of training, all members together; None: off. Training stops on epochs and "
        "patience, so the same seed gives the same network on an idle or a busy machine; a cap breaks that and is "
        "logged when it bites.",
    )
    threads: int = _f(
        0,
        "Torch threads for the network (training and scoring); 0 keeps torch's setting. Set 1 when other "
        "processes share the cores: then one thread is 3x faster than two (docs/benchmarks.md).",
    )


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


LABEL_KINDS = ("single_point", "relaxation")


@dataclass(frozen=True)
class SearchConfig:
    """The search loop (sccop.loop): rounds, budgets and how many structures each stage handles."""

    rounds: int = _f(3, "Most rounds (sample, label, learn, anneal, relax).")
    budget_calls: int | None = _f(None, "Stop once this many backend calls (single points + relaxations) are made.")
    budget_minutes: float | None = _f(None, "Stop after this many minutes of search (summed over resumed runs).")
    samples: int = _f(200, "Structures sampled per round (the pool the network scores).")
    initial_labels: int = _f(30, "Round 0: random samples labelled by the backend before the first training.")
    iterations: int = _f(2, "Learning iterations per round: score, partition, anneal, select, label, retrain.")
    per_iteration: int = _f(15, "Structures the backend labels per learning iteration.")
    explore_share: float = _f(
        0.5, "Share of annealing starts taken from every landscape region; the rest are the lowest labelled."
    )
    starts: int = _f(10, "Annealing starts per learning iteration.")
    relax_top: int = _f(
        5, "Lowest labelled, not yet relaxed, unique structures relaxed by the backend per round (none are left "
        "with label_with = relaxation)."
    )
    relax_each: int = _f(
        0,
        "Lowest labelled, not yet relaxed, unique structures relaxed right after the initial labels and after "
        "each learning iteration but a round's last, within the label budget (0: relax only at the round's end).",
    )
    label_with: str = _f(
        "single_point",
        "How the backend labels the structures the network learns from: single_point (the sampled structure's "
        "energy; the lowest are relaxed at the round's end) or relaxation (each is relaxed and labelled with its "
        "relaxed energy, so the network learns where a structure relaxes to and every label is a relaxed result).",
    )
    seed_structures: int = _f(3, "Relaxed structures whose group and lattice seed the next round's sampling.")
    seed_samples: int = _f(20, "Samples drawn on each seed structure's lattice.")
    tolerance: float = _f(0.001, "Convergence: best energy changes below this (eV/atom) count as unchanged.")
    patience: int = _f(2, "Convergence: stop when the best energy is unchanged for this many rounds.")
    top: int = _f(10, "Unique relaxed structures written to DIR/best and DIR/summary.csv.")
    chunk: int = _f(8, "Backend calls written to the database together (a crash loses at most one chunk).")

    def __post_init__(self):
        if self.label_with not in LABEL_KINDS:
            from sccop.errors import SccopInputError

            raise SccopInputError(f"unknown search.label_with {self.label_with!r}; choose one of {', '.join(LABEL_KINDS)}")


@dataclass(frozen=True)
class RefineConfig:
    """Final refinement (sccop.answer): symmetrise and re-relax, merge duplicates, re-rank."""

    symmetrize: bool = _f(True, "Symmetrise the best relaxed structures and re-relax them under FixSymmetry.")
    tolerances: tuple[float, ...] = _f(
        (0.01, 0.05, 0.1, 0.2, 0.3, 0.5), "Symmetry tolerances (Angstrom) at which each candidate is symmetrised."
    )
    energy_tolerance: float = _f(
        0.002,
        "A symmetrised version replaces the relaxed structure when its energy per atom is at most this much "
        "higher (eV/atom); the highest-symmetry such version wins.",
    )
    top: int = _f(10, "Lowest unique relaxed structures that are symmetrised.")
    prefer_symmetry: bool = _f(
        True,
        "Rank ties by symmetry: of the candidates within energy_tolerance of the lowest one left, the one with "
        "the highest point-group order comes first, and duplicates are reported as their most symmetric member "
        "within energy_tolerance of the lowest (False: by energy alone).",
    )
    rerank: str | None = _f(
        None, "Second backend that relaxes the final candidates and ranks them (e.g. sevennet, espresso); None: off."
    )
    rerank_model: str | None = _f(None, "Model variant of the re-ranking backend (e.g. 7net-l3i5).")
    rerank_top: int = _f(10, "Unique candidates relaxed by the re-ranking backend.")


@dataclass(frozen=True)
class ExecutionConfig:
    """Where backend calls run (sccop.calls.execution); the main process is always the only database writer."""

    workers: int = _f(1, "Local Dask worker processes (1: everything in this process).")
    cluster: str = _f("local", "local, slurm or pbs (dask-jobqueue).")
    jobs: int = _f(1, "slurm/pbs: batch jobs to start, one Dask worker each.")
    queue: str | None = _f(None, "slurm/pbs: queue or partition.")
    cores: int = _f(1, "slurm/pbs: cores per job.")
    memory: str = _f("4GB", "slurm/pbs: memory per job.")
    walltime: str = _f("02:00:00", "slurm/pbs: wall time per job.")
    extra_directives: tuple[str, ...] = _f((), "slurm/pbs: extra #SBATCH/#PBS lines, e.g. ['--account=abc'].")
    retries: int = _f(2, "Times a task is resubmitted when its worker dies.")


@dataclass(frozen=True)
class RunConfig:
    """Everything one `sccop search` run needs; written to DIR/config.toml."""

    composition: str = _f("", "Chemical formula, e.g. Mg2SiO4.")
    atoms: str | None = _f(None, "Atoms per primitive cell, N or A-B (whole formula units only).")
    formula_units: str | None = _f(None, "Formula units per primitive cell, N or A-B (default: 4-8 atoms' worth).")
    seed: int = _f(0, "Random seed: the same seed and inputs give the same result.")
    sampler: SamplerConfig = _f(None, "Sampling.")
    backend: BackendConfig = _f(None, "Energy backend.")
    relax: RelaxConfig = _f(None, "Relaxations.")
    graph: GraphConfig = _f(None, "Crystal graphs.")
    model: ModelConfig = _f(None, "Network.")
    train: TrainConfig = _f(None, "Training.")
    landscape: LandscapeConfig = _f(None, "Landscape partition and selection.")
    anneal: AnnealConfig = _f(None, "Simulated annealing.")
    search: SearchConfig = _f(None, "The loop.")
    refine: RefineConfig = _f(None, "Final refinement and re-ranking.")
    execution: ExecutionConfig = _f(None, "Where backend calls run.")

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in SECTIONS and getattr(self, f.name) is None:
                object.__setattr__(self, f.name, SECTIONS[f.name]())


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
}
# Keys a resumed run may change: they decide when to stop or what is done after the search, not what
# the search computes (refinement rows are named by tolerance and backend, so new settings add rows).
RESUMABLE_CHANGES = {("search", "rounds"), ("search", "budget_calls"), ("search", "budget_minutes"), ("train", "threads"),
                     ("train", "max_seconds")} | {
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
EARLIER_BEHAVIOUR = {("sampler", "symmetry_bias"): 0.0}


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
        if name in SECTIONS and isinstance(out.get(name), dict):
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
