"""`sccop bench`: sccop against random symmetric search on CSPBench-format tables.

table (rows and references) -> settings (budget, record) -> harness (runs the pairs) -> scoring (from
each method's database) -> summary (results.csv, summary.md); resample and analyses read finished
folders again.
"""

from sccop.bench.analyses import equal_cost as equal_cost_analysis
from sccop.bench.analyses import random_expectation
from sccop.bench.harness import run_bench, run_pair
from sccop.bench.scoring import group_within, score, score_refined
from sccop.bench.settings import METHODS, BenchSettings
from sccop.bench.summary import summary_markdown, write_results
from sccop.bench.table import BenchRow, read_table, reference_path

__all__ = ["BenchRow", "BenchSettings", "METHODS", "read_table", "reference_path", "run_bench", "run_pair", "score",
           "score_refined", "group_within", "summary_markdown", "write_results", "equal_cost_analysis",
           "random_expectation"]
