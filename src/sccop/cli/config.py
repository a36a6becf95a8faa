"""Print the resolved settings of a search: every section and field of --config and the options given,
with each field's description and what it may hold, as TOML that `sccop search --config` reads; or, with
--job-script, the batch script that a SLURM/PBS [execution] submits for each job."""

from __future__ import annotations

import argparse

HELP = "print the resolved settings (TOML with every field described) for a search's options"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from sccop.cli.search import add_settings

    p.add_argument("--show", action="store_true", help="print the settings (the default action)")
    p.add_argument("--job-script", action="store_true",
                   help="print the batch script each SLURM/PBS job of [execution] is submitted with (submits nothing)")
    add_settings(p)


def run(args: argparse.Namespace) -> int:
    if args.job_script:
        from sccop.calls.execution import job_script
        from sccop.cli.search import resolve

        print(job_script(resolve(args, need_composition=False).execution))
        return 0
    print(settings_text(args))
    return 0


def settings_text(args) -> str:
    """The TOML text: a comment with description and allowed values above every field."""
    from dataclasses import fields

    import tomli_w

    from sccop.cli.search import resolve
    from sccop.config import SECTIONS, to_dict

    config = resolve(args, need_composition=False)
    data = to_dict(config)
    lines = ["# sccop settings: `sccop search --config THIS_FILE --out DIR` reads them back", ""]

    def field_lines(section, name: str, value) -> list[str]:
        description = section.describe()[name] if section is not None else config.describe()[name]
        shown = tomli_w.dumps({name: value}).strip() if value is not None else f"# {name} is not set"
        return [f"# {line}" for line in _wrap(description)] + [shown, ""]

    for f in fields(config):
        if f.name not in SECTIONS:
            lines += field_lines(None, f.name, data.get(f.name))
    for name in SECTIONS:
        section = getattr(config, name)
        lines += [f"[{name}]", f"# {type(section).__doc__.strip().splitlines()[0]}", ""]
        for g in fields(section):
            lines += field_lines(section, g.name, data[name].get(g.name))
    return "\n".join(lines)


def _wrap(text: str, width: int = 100) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]
