"""The `sccop` command: one entry point, one module per subcommand, imports inside the commands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from sccop.errors import SccopInputError

SUBCOMMANDS = {
    "sample": "sccop.cli.sample",
    "relax": "sccop.cli.relax",
    "search": "sccop.cli.search",
    "report": "sccop.cli.report",
    "phonons": "sccop.cli.phonons",
    "bench": "sccop.cli.bench",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sccop", description="Symmetry-based crystal structure prediction (SCCOP)."
    )
    parser.add_argument("--traceback", action="store_true", help="show the full Python traceback on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        mod = importlib.import_module(module)
        p = sub.add_parser(name, help=mod.HELP, description=mod.__doc__)
        p.add_argument("--traceback", action="store_true", help="show the full Python traceback on errors")
        mod.add_arguments(p)
        p.set_defaults(run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        return int(args.run(args) or 0)
    except SccopInputError as exc:
        if args.traceback:
            raise
        print(f"sccop: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
