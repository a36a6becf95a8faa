"""sccop: Symmetry-based Crystal Combinatorial Optimization Program."""

__version__ = "0.1.0"
