"""How backends, models and fidelities are named in reports and in the rows a re-ranking writes."""

from sccop.answer.ranking import rerank_backend, rerank_name
from sccop.backends import backend_label, element_ranges
from sccop.config import BackendConfig, RefineConfig, RunConfig


def test_labels_name_the_model_and_the_fidelity():
    assert backend_label(BackendConfig()) == "chgnet"
    assert backend_label(BackendConfig(name="sevennet", model="7net-l3i5")) == "sevennet 7net-l3i5"
    assert backend_label(BackendConfig(name="sevennet", model="7net-mf-0", modal="R2SCAN")) == "sevennet 7net-mf-0 (R2SCAN)"


def test_another_fidelity_of_the_re_ranker_writes_other_rows():
    """Rows are named by the re-ranker: a resumed run with another fidelity must not reuse the first one's."""
    names = {rerank_name(RunConfig(refine=RefineConfig(rerank="sevennet", rerank_model="7net-mf-0", rerank_modal=modal)))
             for modal in ("PBE", "R2SCAN")}
    assert names == {"sevennet-7net-mf-0-PBE", "sevennet-7net-mf-0-R2SCAN"}
    assert rerank_name(RunConfig(refine=RefineConfig(rerank="sevennet", rerank_model="7net-l3i5"))) == "sevennet-7net-l3i5"
    config = RunConfig(refine=RefineConfig(rerank="sevennet", rerank_model="7net-mf-0", rerank_modal="PBE"))
    chosen = rerank_backend(config)
    assert (chosen.name, chosen.model, chosen.modal) == ("sevennet", "7net-mf-0", "PBE")
    assert config.backend.modal is None  # the search's own backend keeps its (single) fidelity


def test_element_ranges_join_neighbours():
    assert element_ranges({1, 2, 3, 5, 7, 8}) == "H-Li, B, N-O"
    assert element_ranges(set(range(1, 84)) | set(range(89, 95))) == "H-Bi, Ac-Pu"
