"""The `sccop` command: one entry point, one module per subcommand, imports inside the commands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from sccop.errors import SccopInputError, SccopRunError

SUBCOMMANDS = {
    "sample": "sccop.cli.sample",
    "relax": "sccop.cli.relax",
    "search": "sccop.cli.search",
    "report": "sccop.cli.report",
    "phonons": "sccop.cli.phonons",
    "verify": "sccop.cli.verify",
    "bench": "sccop.cli.bench",
    "config": "sccop.cli.config",
    "predict-groups": "sccop.cli.predict_groups",
    "analyze": "sccop.cli.analyze",
}


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (exit status 2), without the usage block."""

    def error(self, message: str):
        self.exit(2, f"sccop: error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="sccop", description="Symmetry-based crystal structure prediction (SCCOP).")
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
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)  # DIR/sccop.log keeps INFO
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    logging.basicConfig(level=logging.INFO, handlers=[console])
    try:
        return int(args.run(args) or 0)
    except SccopInputError as exc:
        if args.traceback:
            raise
        print(f"sccop: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except SccopRunError as exc:
        if args.traceback:
            raise
        print(f"sccop: error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        return 0
    except OSError as exc:  # the file system refused: a path the user gave
        if args.traceback:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        print(f"sccop: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sccop: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: one line, and how to see the whole trace
        if args.traceback:
            raise
        print(f"sccop: internal error: {type(exc).__name__}: {_one_line(str(exc))} (run again with --traceback and "
              "report it)", file=sys.stderr)
        return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
