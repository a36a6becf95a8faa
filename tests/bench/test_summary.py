"""summary.md: counts per category, cost ratios, the equal-cost cut and random search's expectation."""



from sccop.bench import BenchRow


def test_summary_of_a_table_without_categories_has_one_total_line():
    from sccop.bench import summary_markdown

    table = [BenchRow("a", "Cu", 1, 225, "all"), BenchRow("b", "Cu", 1, 229, "all")]
    results = {("a", "sccop"): {"status": "ok", "spacegroup_match": True, "top5_spacegroup_match": True},
               ("b", "sccop"): {"status": "ok", "spacegroup_match": False, "top5_spacegroup_match": True}}
    text = summary_markdown(table, results, ("sccop",))
    assert text.count("| **all** |") == 1 and "| **all** | 2 | 1/2 | 2/2 |" in text


def test_summary_reports_the_evaluations_ratio():
    from sccop.bench import summary_markdown

    table = [BenchRow("a", "Cu", 1, 225, "toy"), BenchRow("b", "Cu", 1, 229, "toy")]
    results = {("a", "sccop"): {"status": "ok", "calls_to_hit": 10, "evaluations_to_hit": 100},
               ("a", "random"): {"status": "ok", "calls_to_hit": 2, "evaluations_to_hit": 300},
               ("b", "sccop"): {"status": "ok", "calls_to_hit": 5, "evaluations_to_hit": 50},
               ("b", "random"): {"status": "ok", "calls_to_hit": 1, "evaluations_to_hit": 50}}
    text = summary_markdown(table, results, ("sccop", "random"))
    assert "random / sccop, over rows both hit: median 0.20" in text
    assert "its steps plus one), random / sccop: median 2.00 (quartiles 1.50-2.50, range 1.00-3.00, 2 rows)" in text
    assert "At equal cost" not in text  # results from before the evaluations were recorded
    # Random search cut at sccop's evaluations: row a's cut run is still in bcc (a miss), row b's hits.
    results[("a", "sccop")].update(evaluations=100, spacegroup_match=True)
    results[("a", "random")].update(evaluations=400, best_spacegroup_by_evaluations="50:229 150:225")
    results[("b", "sccop")].update(evaluations=80, spacegroup_match=False)
    results[("b", "random")].update(evaluations=90, best_spacegroup_by_evaluations="30:229")
    text = summary_markdown(table, results, ("sccop", "random"))
    assert ("cut at sccop's energy-and-force evaluations for each row matches the group (top-1, as relaxed) on 1/2 "
            "rows, against sccop's 1/2 (0 cut runs had relaxed nothing by then)") in text
    assert "times sccop's evaluations: median 2.56" in text
    assert "Random search's expectation" not in text  # results from before it was recorded
    # Its expectation: chances 0.6 and 0.3 add to 0.9 rows, spread sqrt(0.24 + 0.21); expected calls
    # 4 and 2 against sccop's 10 and 5 (0.4 both); evaluations only row a's is known (150 / 100).
    results[("a", "random")].update(top1_chance=0.6, expected_calls_to_hit=4, expected_evaluations_to_hit=150)
    results[("b", "random")].update(top1_chance=0.3, expected_calls_to_hit=2, expected_evaluations_to_hit=None)
    text = summary_markdown(table, results, ("sccop", "random"))
    assert "group top-1, as relaxed, 0.9 ± 0.7 of 2 rows at its budget (bootstrap; its run 0, sccop 1)" in text
    assert "Expected calls to the first hit, random / sccop: median 0.40 (" in text
    assert "Expected evaluations to the first hit, random / sccop: median 1.50." in text
