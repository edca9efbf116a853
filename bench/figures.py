"""One figure of the benchmark report: what was measured, Pixhaven's value, the reference's
value beside it, and the target as a bound on their ratio.

Every bench module returns a list of these; `bench/run.py` prints them side by side in one
table and (with `--markdown`) writes the same table for README's "Benchmarks" section. A
figure says which way is better, so the ratio reads the same for a time (lower is better) and
a rate (higher is better): `ratio` is always Pixhaven / reference in the figure's own unit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str  # what was measured, e.g. "GET /r2/<210 KB JPEG>"
    value: float  # Pixhaven's figure, in `unit`
    unit: str  # "ms", "req/s", "MB", "s"
    reference_name: str = ""  # e.g. "python -m http.server"; "" when there is none
    reference_value: float | None = None
    # The bound on value / reference_value (or on value itself when there is no reference);
    # None: printed for information, no target.
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""  # one short clause: how it was measured, or a second figure

    @property
    def ratio(self) -> float | None:
        if self.reference_value in (None, 0):
            return None
        return self.value / self.reference_value

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        measured = self.ratio if self.reference_value is not None else self.value
        if measured is None:
            return None
        return measured >= self.target if self.higher_is_better else measured <= self.target

    def target_text(self) -> str:
        if self.target is None:
            return "none"
        bound = "≥" if self.higher_is_better else "≤"
        if self.reference_value is not None:
            return f"{bound} {self.target:g}×"
        return f"{bound} {self.target:g} {self.unit}"


def _number(value: float, unit: str) -> str:
    if unit in ("req/s", "MB"):
        return f"{value:,.0f} {unit}"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} {unit}" if value < 10 else f"{value:.1f} {unit}"


def row(figure: Figure) -> tuple[str, str, str, str, str]:
    """(benchmark, Pixhaven, reference, ratio, target with verdict) as text."""
    reference = ""
    if figure.reference_value is not None:
        reference = f"{figure.reference_name} {_number(figure.reference_value, figure.unit)}"
    ratio = f"{figure.ratio:.2f}×" if figure.ratio is not None else ""
    verdict = {True: "met", False: "NOT MET", None: ""}[figure.met]
    target = f"{figure.target_text()} {verdict}".strip()
    value = _number(figure.value, figure.unit)
    if figure.note:
        value = f"{value} ({figure.note})"
    return figure.name, value, reference, ratio, target


def print_table(figures: list[Figure]) -> None:
    rows = [("benchmark", "Pixhaven", "reference", "ratio", "target"), *map(row, figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=True)))


def markdown_table(figures: list[Figure]) -> str:
    lines = ["| benchmark | Pixhaven | reference | ratio | target |", "|---|---|---|---|---|"]
    for figure in figures:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row(figure)) + " |")
    return "\n".join(lines) + "\n"
