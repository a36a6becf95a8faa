"""A bench folder's record (bench.json): settings added since, and the ones that changed behaviour."""


import pytest

from sccop.errors import SccopInputError


def test_a_bench_folder_from_before_a_new_setting_resumes(tmp_path):
    import json

    from sccop.bench.settings import check_record
    from sccop.config import RunConfig, to_dict

    record = {"config": to_dict(RunConfig()), "budget_calls": 60}
    old = json.loads(json.dumps(record))
    del old["config"]["search"]["relax_each"]  # written before relax_each existed
    (tmp_path / "bench.json").write_text(json.dumps(old))
    check_record(tmp_path, record, force=False)  # the default: accepted
    (tmp_path / "bench.json").write_text(json.dumps(old))
    record["config"]["search"]["relax_each"] = 2
    with pytest.raises(SccopInputError, match="other settings"):
        check_record(tmp_path, record, force=False)


def test_a_folder_from_before_symmetry_bias_asks_for_the_uniform_draw(tmp_path):
    import json

    from sccop.bench.settings import check_record
    from sccop.config import RunConfig, SamplerConfig, to_dict

    record = {"config": to_dict(RunConfig()), "budget_calls": 60}
    old = json.loads(json.dumps(record))
    del old["config"]["sampler"]["symmetry_bias"]  # written when groups were drawn uniformly
    (tmp_path / "bench.json").write_text(json.dumps(old))
    with pytest.raises(SccopInputError, match="symmetry_bias: 0.0 -> 1.0"):
        check_record(tmp_path, record, force=False)
    record["config"] = to_dict(RunConfig(sampler=SamplerConfig(symmetry_bias=0.0)))
    check_record(tmp_path, record, force=False)  # what the old folder ran with: accepted
