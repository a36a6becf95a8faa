"""sccop: Symmetry-based Crystal Combinatorial Optimization Program.

The Python API (docs/api.md), imported on first use so that `import sccop` stays light:

    import sccop
    result = sccop.search("NaCl", "runs/NaCl", atoms="2-8")          # or calculator=any ASE calculator
    for c in result.candidates: print(c.rank, c.spacegroup, c.energy)

RunConfig and its sections configure everything; search / Search run the loop; sample draws symmetric
structures; relax relaxes Atoms with a backend or a calculator; refine / ranked give a run's answer from
its store; random_search is the baseline; order orders a composition (with Vac vacancies) on a template's
sites; analyze gives the first-shell coordination patterns of a run's top structures.
"""

from sccop.config import (
    AnnealConfig,
    BackendConfig,
    ExecutionConfig,
    GraphConfig,
    OrderingConfig,
    LandscapeConfig,
    ModelConfig,
    RefineConfig,
    RelaxConfig,
    RunConfig,
    SamplerConfig,
    SearchConfig,
    TrainConfig,
)
from sccop.errors import SccopInputError

__version__ = "0.1.0"

_LAZY = {
    "search": "sccop.loop.driver", "Search": "sccop.loop.driver", "SearchResult": "sccop.loop.driver",
    "sample": "sccop.api", "relax": "sccop.api", "open_run": "sccop.api", "predict_groups": "sccop.api",
    "refine": "sccop.answer.refine", "ranked": "sccop.answer.ranking", "Candidate": "sccop.answer.candidates",
    "order": "sccop.ordering.search", "OrderingResult": "sccop.ordering.search", "analyze": "sccop.coordination",
    "random_search": "sccop.baseline", "Store": "sccop.calls.store", "EnergyResult": "sccop.relaxation",
}

__all__ = ["RunConfig", "SamplerConfig", "BackendConfig", "RelaxConfig", "GraphConfig", "ModelConfig", "TrainConfig",
           "LandscapeConfig", "AnnealConfig", "SearchConfig", "RefineConfig", "ExecutionConfig", "OrderingConfig",
           "SccopInputError",
           *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sccop' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
