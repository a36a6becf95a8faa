"""The settings shown in the docs are settings this version reads: every TOML block of docs/usage.md and
the README resolves to a config, so a renamed or removed field fails here, not in a user's run."""

import re
import tomllib
from pathlib import Path

import pytest

from sccop.config import from_dict, with_new_defaults

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = [(name, block) for name in ("docs/usage.md", "README.md")
          for block in re.findall(r"```toml\n(.*?)```", (ROOT / name).read_text(), re.S)]


def test_the_docs_show_settings():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("name,block", BLOCKS, ids=[f"{n}:{i}" for i, (n, _) in enumerate(BLOCKS)])
def test_a_documented_toml_block_is_a_config_this_version_reads(name, block):
    data = tomllib.loads(block)
    config = from_dict(with_new_defaults(data))
    for section, values in data.items():
        if isinstance(values, dict):
            for field, value in values.items():
                held = getattr(getattr(config, section), field)
                assert (list(held) if isinstance(value, list) else held) == value, (name, section, field)
