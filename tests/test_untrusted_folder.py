"""A run folder is data, never code: no pickle in it runs, no command in it is executed, no link in it is
followed, a kill during a write leaves a folder that resumes, and the exit status tells the truth."""

import sys

import pytest
import tomli_w
import torch
from ase.build import bulk

from sccop.cli.main import main
from sccop.config import BackendConfig, RunConfig, to_dict
from sccop.errors import SccopInputError
from sccop.loop.driver import Search


class Payload:
    """Unpickling this runs code: it creates `marker`."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_payload_in_models_is_not_run(tmp_path, small_config):
    out = tmp_path / "run"
    config = small_config(rounds=1)
    Search(config, out, progress=False).run()
    marker = tmp_path / "pwned"
    torch.save({"members": [Payload(str(marker))], "mean": 0.0, "std": 1.0}, out / "models" / "r0_i0.pt")
    with pytest.raises(SccopInputError, match="r0_i0.pt cannot be read as a trained ensemble"):
        Search(config, out, progress=False).run()
    assert not marker.exists()


def test_the_folder_s_dft_command_is_never_run(tmp_path):
    from sccop.calls.store import Store
    from sccop.phonons import phonons_of_run
    from sccop.testing import put_relaxed

    marker = tmp_path / "pwned"
    script = tmp_path / "evil.py"
    script.write_text(f"open({str(marker)!r}, 'w')\n")
    out = tmp_path / "run"
    out.mkdir()
    empty, pseudo = tmp_path / "empty", tmp_path / "pseudo"
    empty.mkdir()
    pseudo.mkdir()
    (pseudo / "Si.pbe-rrkj.UPF").write_text("a stand-in: the command below never reads it\n")
    evil = f"{sys.executable} {script}"
    config = RunConfig(composition="Si", backend=BackendConfig(name="espresso", espresso_command=evil,
                                                               pseudo_dir=str(empty), timeout_s=60))
    (out / "config.toml").write_text(tomli_w.dumps(to_dict(config)))
    put_relaxed(Store(out / "sccop.db"), "relax:a", bulk("Si", "diamond", a=5.43), -5.4, calls=1)
    rows = phonons_of_run(out, 1, progress=False)
    assert rows[0]["status"] == "failed" and not marker.exists()
    rows = phonons_of_run(out, 1, progress=False, backend_settings={"pseudo_dir": str(pseudo)})
    assert rows[0]["status"] == "failed" and not marker.exists()  # pw.x (or its absence), never the folder's command
    # The user's own command is used when given again.
    rows = phonons_of_run(out, 1, progress=False, backend_settings={"espresso_command": evil, "pseudo_dir": str(pseudo)})
    assert marker.exists() and rows[0]["status"] == "failed"


def test_a_symbolic_link_inside_the_folder_is_refused(tmp_path, small_config):
    out = tmp_path / "run"
    config = small_config(rounds=1)
    Search(config, out, progress=False).run()
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    (elsewhere / "thesis.tex").write_text("years of work")
    for path in (out / "best").iterdir():
        path.unlink()
    (out / "best").rmdir()
    (out / "best").symlink_to(elsewhere)
    with pytest.raises(SccopInputError, match=r"best is a symbolic link"):
        Search(config, out, progress=False).run()
    assert main(["report", str(out)]) == 2
    assert (elsewhere / "thesis.tex").read_text() == "years of work"


class Killed(BaseException):
    pass


def test_a_kill_while_a_model_is_saved_leaves_a_folder_that_resumes(tmp_path, monkeypatch, small_config):
    config = small_config(rounds=1)
    reference = Search(config, tmp_path / "reference", progress=False).run()
    real = torch.save

    def dying(obj, path, *a, **kw):
        real(obj, path, *a, **kw)
        with open(path, "r+b") as fh:  # half of the file on disk, then the process dies
            fh.truncate(fh.seek(0, 2) // 2)
        raise Killed

    monkeypatch.setattr(torch, "save", dying)
    out = tmp_path / "run"
    with pytest.raises(Killed):
        Search(config, out, progress=False).run()
    monkeypatch.setattr(torch, "save", real)
    assert not (out / "models" / "r0_i0.pt").exists()  # only the partial file, never under the real name
    resumed = Search(config, out, progress=False).run()
    assert resumed.calls == reference.calls and resumed.best_energy == pytest.approx(reference.best_energy)


def test_a_search_whose_every_call_failed_exits_non_zero(tmp_path, monkeypatch, capsys, small_config):
    import sccop.calls.ledger as ledger
    from sccop.relaxation import failed

    monkeypatch.setattr(ledger, "single_points", lambda structures, *a, **kw: [failed(s, "SCF not converged") for s in structures])
    monkeypatch.setattr(ledger, "relax_many", lambda structures, *a, **kw: [failed(s, "SCF not converged") for s in structures])
    settings = to_dict(small_config(rounds=1))
    (tmp_path / "run.toml").write_text(tomli_w.dumps(settings))
    code = main(["search", "--config", str(tmp_path / "run.toml"), "--out", str(tmp_path / "run"), "--quiet"])
    assert code == 1
    assert "no backend call succeeded (the reason: SCF not converged)" in capsys.readouterr().err
