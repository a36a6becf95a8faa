"""CGCNN with gated convolutions and multiplicity-weighted mean pooling.

h_i <- softplus(h_i + LN(sum_j sigmoid(z_ij W_f) * softplus(z_ij W_s))),   z_ij = [h_i, h_j, e_ij]
crystal vector c = softplus(W_c * sum_i w_i h_i / sum_i w_i);  energy per atom = W_e c + b.

There is no batch normalisation: a structure's output must not depend on what else is in the batch,
and the asymmetric-unit graph (orbit nodes weighted by multiplicity) must give exactly what the whole
cell gives. A per-node LayerNorm (LN) on the summed messages takes its place: it keeps the states from
growing with the neighbour count and saturating the gates, and acts on each node alone.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from sccop.config import GraphConfig, ModelConfig
from sccop.graph.crystal_graph import CrystalGraph, batch_graphs, gaussian_expansion


class GatedConv(nn.Module):
    def __init__(self, atom_dim: int, edge_dim: int):
        super().__init__()
        self.linear = nn.Linear(2 * atom_dim + edge_dim, 2 * atom_dim)
        self.norm = nn.LayerNorm(atom_dim)
        self.softplus = nn.Softplus()

    def forward(self, h: torch.Tensor, edges: torch.Tensor, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
        # linear([h_i, h_j, e_ij]) split by blocks: the node blocks are applied once per node and
        # gathered, so the per-edge product is only the edge block (the same function, fewer FLOPs).
        a = h.shape[1]
        w, b = self.linear.weight, self.linear.bias
        z = torch.addmm(b, edges, w[:, 2 * a :].T)
        z += (h @ w[:, :a].T).index_select(0, src)
        z += (h @ w[:, a : 2 * a].T).index_select(0, dst)
        gate, core = z.chunk(2, dim=1)
        messages = torch.sigmoid(gate) * self.softplus(core)
        summed = torch.zeros_like(h).index_add_(0, src, messages)
        return self.softplus(h + self.norm(summed))


class CGCNN(nn.Module):
    """Energy per atom and crystal vectors of a batch of crystal graphs (see `to_tensors`)."""

    def __init__(self, config: ModelConfig | None = None, graph: GraphConfig | None = None):
        super().__init__()
        config = config or ModelConfig()
        graph = graph or GraphConfig()
        edge_dim = len(np.arange(0.0, graph.cutoff + 1e-9, graph.gaussian_step))
        self.embed = nn.Embedding(119, config.atom_dim)
        self.convs = nn.ModuleList(GatedConv(config.atom_dim, edge_dim) for _ in range(config.n_conv))
        self.to_crystal = nn.Linear(config.atom_dim, config.crystal_dim)
        self.head = nn.Linear(config.crystal_dim, 1)
        self.softplus = nn.Softplus()

    def crystal_vectors(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        h = self.embed(batch["numbers"])
        for conv in self.convs:
            h = conv(h, batch["edges"], batch["src"], batch["dst"])
        w = batch["weights"].unsqueeze(1).to(h.dtype)
        n = int(batch["n_graphs"])
        pooled = torch.zeros(n, h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, batch["graph"], w * h)
        total = torch.zeros(n, 1, dtype=h.dtype, device=h.device).index_add_(0, batch["graph"], w)
        return self.softplus(self.to_crystal(pooled / total))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.crystal_vectors(batch)).squeeze(1)


def to_tensors(batched: dict[str, np.ndarray], graph: GraphConfig | None = None, dtype=torch.float32, device="cpu",
               edges: torch.Tensor | None = None):
    """Torch tensors for CGCNN from `batch_graphs` output (edge features expanded here unless `edges`
    gives them already expanded)."""
    if edges is None:
        edges = torch.as_tensor(gaussian_expansion(batched["distances"], graph), dtype=dtype, device=device)
    return {
        "numbers": torch.as_tensor(batched["numbers"], dtype=torch.long, device=device),
        "weights": torch.as_tensor(batched["weights"], dtype=dtype, device=device),
        "graph": torch.as_tensor(batched["graph"], dtype=torch.long, device=device),
        "src": torch.as_tensor(batched["src"], dtype=torch.long, device=device),
        "dst": torch.as_tensor(batched["dst"], dtype=torch.long, device=device),
        "edges": edges,
        "n_graphs": int(batched["n_graphs"]),
    }


class GraphTensors:
    """Batches of any subset of a fixed list of graphs (training draws many), with each graph's edge
    features expanded once instead of at every batch: the same tensors `to_tensors(batch_graphs(...))`
    gives, built in a fraction of the time."""

    def __init__(self, graphs: list[CrystalGraph], graph: GraphConfig | None = None, dtype=torch.float32):
        self.graphs = graphs
        self.edges = [torch.as_tensor(gaussian_expansion(g.distances, graph), dtype=dtype) for g in graphs]
        self.dtype = dtype

    def batch(self, indices) -> dict[str, torch.Tensor]:
        return to_tensors(batch_graphs([self.graphs[i] for i in indices], distances=False), dtype=self.dtype,
                          edges=torch.cat([self.edges[i] for i in indices]))
