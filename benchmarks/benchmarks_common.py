"""Structures shared by the benchmark scripts."""

from __future__ import annotations

from contextlib import contextmanager


def mgo_structures(natoms: int, count: int):
    """`count` random symmetric MgO structures of `natoms` atoms from sccop's sampler (seeded)."""
    import numpy as np

    from sccop.composition import parse_composition
    from sccop.config import SamplerConfig
    from sccop.sampling.sampler import Sampler

    sampler = Sampler(parse_composition("MgO"), [natoms // 2], SamplerConfig())
    out, i = [], 0
    while len(out) < count:
        s = sampler.sample_one(np.random.default_rng([natoms, i]))
        i += 1
        if s is not None:
            out.append(s.to_atoms())
    return out


@contextmanager
def busy_core(enabled: bool):
    """While the block runs, a second process keeps one core busy when `enabled` (as when searches or
    Dask workers share the machine); yields whether it does."""
    if not enabled:
        yield False
        return
    import subprocess
    import sys

    busy = subprocess.Popen([sys.executable, "-c", "while True: sum(i * i for i in range(10**6))"])
    try:
        yield True
    finally:
        busy.kill()
