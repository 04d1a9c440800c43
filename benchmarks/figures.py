"""What a benchmark returns: named numbers with their unit, shown as a table and as JSON.

Records, not printed text, so ``python -m benchmarks`` gathers every benchmark's figures
in one run without parsing anything, and the README's table is copied from one output.
"""

import json
from dataclasses import asdict, dataclass

from helpers.display import Table


@dataclass(frozen=True)
class Figure:
    """One measured number, rounded where it is measured (two cores are noisier than that).

    ``goal`` is an upper bound in the same unit, set only where the workshop promises one.
    """

    name: str
    value: float
    unit: str
    goal: float | None = None

    @property
    def goal_met(self) -> bool | None:
        return None if self.goal is None else self.value < self.goal


def _amount(value: float, unit: str) -> str:
    return f"{value:g} {unit}"


def _goal(figure: Figure) -> str:
    if figure.goal is None:
        return ""
    verdict = "met" if figure.goal_met else "NOT met"
    return f"< {_amount(figure.goal, figure.unit)}: {verdict}"


def table(figures: list[Figure]) -> str:
    """Aligned text, as ``make run`` prints its notebooks."""
    return repr(
        Table(
            [
                {"figure": f.name, "value": _amount(f.value, f.unit), "goal": _goal(f)}
                for f in figures
            ]
        )
    )


def as_json(figures: list[Figure], measured_at: str, cpus: int | None) -> str:
    """The same figures for a file: when and on how many cores, since both change them."""
    records = [{**asdict(f), "goal_met": f.goal_met} for f in figures]
    return json.dumps(
        {"measured_at": measured_at, "cpus": cpus, "figures": records},
        indent=2,
        ensure_ascii=False,
    )
