"""A run folder: one process at a time, its settings checked and written, its clock summed over resumes."""

import pytest

from sccop.calls.rundir import Clock, check_settings, exclusive, read_settings, write_settings
from sccop.config import RunConfig, SearchConfig
from sccop.errors import SccopInputError


def test_a_folder_is_held_by_one_process_and_freed_when_it_dies(tmp_path, held_by_another_process):
    with held_by_another_process(tmp_path, "a search") as holder:
        with pytest.raises(SccopInputError, match=rf"in use by a search \(process {holder.pid}\)"):
            with exclusive(tmp_path, "a bench"):
                pass
    with exclusive(tmp_path, "a bench"):  # killed, it left nothing to clean up
        assert "a bench" in (tmp_path / ".lock").read_text()
    assert (tmp_path / ".lock").read_text() == ""


def test_settings_are_checked_then_written_once(tmp_path):
    config = RunConfig(composition="NaCl", seed=1)
    check_settings(config, tmp_path, force=False)  # a new folder: nothing to check
    write_settings(config, tmp_path)
    stamp = (tmp_path / "config.toml").stat().st_mtime_ns
    write_settings(config, tmp_path)
    assert (tmp_path / "config.toml").stat().st_mtime_ns == stamp  # unchanged: not rewritten
    with pytest.raises(SccopInputError, match="seed: 1 -> 2"):
        check_settings(RunConfig(composition="NaCl", seed=2), tmp_path, force=False)
    check_settings(RunConfig(composition="NaCl", seed=2), tmp_path, force=True)
    # Budgets, rounds, threads, the training cap and where calls run may change on resume.
    more = RunConfig(composition="NaCl", seed=1, search=SearchConfig(budget_calls=50, rounds=9))
    check_settings(more, tmp_path, force=False)


def test_settings_are_read_back_with_fields_added_since_at_their_defaults(tmp_path):
    with pytest.raises(SccopInputError, match="holds no search"):
        read_settings(tmp_path)
    write_settings(RunConfig(composition="NaCl", seed=4, search=SearchConfig(rounds=2)), tmp_path)
    text = (tmp_path / "config.toml").read_text()
    (tmp_path / "config.toml").write_text(text.replace("rounds = 2", "rounds = 2\nold = 1").replace("patience =", "# patience ="))
    with pytest.raises(SccopInputError):  # a field this version does not know
        read_settings(tmp_path)
    (tmp_path / "config.toml").write_text(text.replace("patience =", "# patience ="))
    config = read_settings(tmp_path)
    assert (config.seed, config.search.rounds, config.search.patience) == (4, 2, SearchConfig().patience)
    (tmp_path / "elsewhere").symlink_to(tmp_path / "config.toml")
    assert read_settings(tmp_path).seed == 4  # reading only
    with pytest.raises(SccopInputError, match="symbolic link"):
        read_settings(tmp_path, writing=True)


def test_the_clock_adds_the_earlier_runs():
    assert Clock(120.0).minutes() >= 2.0
    assert Clock().seconds() < 5.0
