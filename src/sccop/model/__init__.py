"""The graph network that scores structures, trained during the run from random initial weights."""

from sccop.model.cgcnn import CGCNN, to_tensors

__all__ = ["CGCNN", "to_tensors"]
