"""Crystal graphs: the asymmetric-unit graph of a SymmetricStructure and the whole-cell graph of Atoms."""

from sccop.graph.crystal_graph import (CrystalGraph, au_graph, batch_graphs, cell_graph, gaussian_expansion, orbit_graph,
                                       symmetry_graph)

__all__ = ["CrystalGraph", "au_graph", "cell_graph", "orbit_graph", "symmetry_graph", "batch_graphs", "gaussian_expansion"]
