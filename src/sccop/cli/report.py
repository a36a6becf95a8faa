"""Write DIR/report.html from a search directory: best energy vs backend calls, the landscape map,
energy distributions per round, space groups sampled and found, and the top structures drawn. The page
has its images inlined and opens offline."""

from __future__ import annotations

import argparse

HELP = "write DIR/report.html from a search directory"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", help="a search directory (holds sccop.db)")
    p.add_argument("--top", type=int, default=6, help="structures to draw (default 6)")


def run(args: argparse.Namespace) -> int:
    from sccop.allowed import integer
    from sccop.cli.common import checked
    from sccop.report import write_report

    checked(args, top=integer(1, 100))
    path = write_report(args.directory, top=args.top)
    print(path)
    return 0
