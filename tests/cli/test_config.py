"""`sccop config --show`: the resolved settings with their descriptions, as TOML that a search reads back;
and every section describes its fields."""

import tomllib

from sccop.cli.main import main
from sccop.config import SECTIONS, RunConfig, from_dict, to_dict


def test_config_show_prints_every_field_described_and_reads_back(tmp_path, capsys):
    (tmp_path / "run.toml").write_text('[search]\nrounds = 5\n')
    assert main(["config", "--show", "NaCl", "--config", str(tmp_path / "run.toml"), "--pressure", "5",
                 "--symmetry-bias", "0.5", "--device", "cpu", "--distance-factor", "0.8"]) == 0
    text = capsys.readouterr().out
    data = tomllib.loads(text)
    config = from_dict(data)
    assert config.composition == "NaCl" and config.search.rounds == 5 and config.relax.pressure == 5.0
    assert config.sampler.symmetry_bias == 0.5 and config.sampler.distance_factor == 0.8
    assert to_dict(config) == data
    for name, section in SECTIONS.items():
        assert f"[{name}]" in text
        for field, description in section().describe().items():
            assert "Allowed:" in description and f"{field} " in text  # described, and shown (or "not set")
    assert "# f in the distance rule" in text


def test_every_section_describes_itself():
    assert set(RunConfig().describe()) >= {"composition", "atoms", "seed"}
    for section in SECTIONS.values():
        assert all(text.strip() for text in section().describe().values())


def test_the_often_changed_settings_are_flags(tmp_path, capsys):
    from sccop.cli.main import build_parser

    search = build_parser()._subparsers._group_actions[0].choices["search"]
    flags = {o for action in search._actions for o in action.option_strings}
    assert {"--symmetry-bias", "--distance-factor", "--thickness", "--vacuum", "--device", "--pressure"} <= flags
    helps = {o: action.help for action in search._actions for o in action.option_strings}
    assert "lj" in helps["--backend"] and "emt" in helps["--backend"]
    relax = build_parser()._subparsers._group_actions[0].choices["relax"]
    assert all(action.help for action in relax._actions if action.option_strings)
