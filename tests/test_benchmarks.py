"""``make bench``'s report: the table and JSON its figures are shown as (no benchmark runs)."""

import json

from benchmarks.figures import Figure, as_json, table

FIGURES = [
    Figure("make run wall time, median of 3", 35.2, "s", 40.0),
    Figure("recorder per call, mean of 10,000", 1200.0, "µs", 1000.0),
    Figure("consent round trip, median of 20", 43.9, "ms"),
]


def test_the_table_has_a_row_per_figure_with_its_unit_and_goal():
    assert table(FIGURES).splitlines() == [
        "figure                             value    goal",
        "make run wall time, median of 3    35.2 s   < 40 s: met",
        "recorder per call, mean of 10,000  1200 µs  < 1000 µs: NOT met",
        "consent round trip, median of 20   43.9 ms",
    ]


def test_the_json_holds_the_same_figures_with_when_and_on_how_many_cores():
    report = json.loads(as_json(FIGURES, "2026-11-29T10:00:00+00:00", 2))
    assert (report["measured_at"], report["cpus"]) == ("2026-11-29T10:00:00+00:00", 2)
    assert report["figures"] == [
        {
            "name": "make run wall time, median of 3",
            "value": 35.2,
            "unit": "s",
            "goal": 40.0,
            "goal_met": True,
        },
        {
            "name": "recorder per call, mean of 10,000",
            "value": 1200.0,
            "unit": "µs",
            "goal": 1000.0,
            "goal_met": False,
        },
        {
            "name": "consent round trip, median of 20",
            "value": 43.9,
            "unit": "ms",
            "goal": None,
            "goal_met": None,
        },
    ]
    assert "µs" in as_json(FIGURES, "", 2)  # readable in the file, not \u00b5s


def test_every_benchmark_is_found_by_the_name_python_m_benchmarks_imports():
    # The package once imported helpers.workshop as `workshop`, hiding the benchmark.
    from benchmarks import calls, consent, runtime, workshop

    assert all(callable(module.measure) for module in (runtime, consent, calls, workshop))
