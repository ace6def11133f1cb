#!/usr/bin/env python3
"""The real-program table and chart of docs/benchmarks.md, from the `programs` bench's results.

Reads criterion's medians (<criterion dir>/programs_<program>_<phase>/<engine>/new/estimates.json,
written by `cargo bench --features compare --bench programs`), then
- replaces the text between the `<!-- programs-table:begin -->` and `<!-- programs-table:end -->`
  lines of docs/benchmarks.md with the table (per program: compile, instantiate and run time on
  each engine and their ratio wasmjit/Wasmtime; fuel/plain and epochs/plain run time on each
  engine; geometric means of every ratio column);
- writes docs/benchmarks-programs.svg, a bar chart of the run-time ratios.

    scripts/benchmarks-table.py [CRITERION_DIR]   # default: $CARGO_TARGET_DIR/criterion or target/criterion
"""

import json
import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
SVG = ROOT / "docs" / "benchmarks-programs.svg"
BEGIN, END = "<!-- programs-table:begin -->", "<!-- programs-table:end -->"
ENGINES = ("wasmjit", "wasmtime")
PHASES = ("compile", "instantiate", "run", "run_fuel", "run_epochs")
RUN_GOAL = 1.02


def median_ns(criterion, program, phase, engine):
    path = criterion / f"programs_{program}_{phase}" / engine / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def programs(criterion):
    """Program names in the bench's order (by the modules' file names, as measured)."""
    names = set()
    for d in criterion.glob("programs_*_compile"):
        names.add(d.name[len("programs_") : -len("_compile")])
    order = ["deflate", "json", "regex", "markdown", "hashes", "rhai", "sqlite"]
    return [n for n in order if n in names] + sorted(names - set(order))


def human(ns):
    if ns is None:
        return "n/a"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.0f} ns"


def ratio(a, b):
    return a / b if a is not None and b is not None else None


def fmt(r):
    return "n/a" if r is None else f"{r:.3f}"


def geomean(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def table(criterion, names):
    m = {
        (p, ph, e): median_ns(criterion, p, ph, e)
        for p in names
        for ph in PHASES
        for e in ENGINES
    }
    head = [
        "program",
        "compile wasmjit", "compile Wasmtime", "**ratio**",
        "instantiate wasmjit", "instantiate Wasmtime", "**ratio**",
        "run wasmjit", "run Wasmtime", "**ratio**",
        "fuel/plain wasmjit", "epochs/plain wasmjit",
        "fuel/plain Wasmtime", "epochs/plain Wasmtime",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    columns = {}  # column index -> ratios, for the geomean row
    run_ratios = {}
    for p in names:
        cells = [p]
        for ph in ("compile", "instantiate", "run"):
            a, b = m[(p, ph, "wasmjit")], m[(p, ph, "wasmtime")]
            r = ratio(a, b)
            cells += [human(a), human(b), f"**{fmt(r)}**"]
            columns.setdefault(len(cells) - 1, []).append(r)
            if ph == "run":
                run_ratios[p] = r
        for e in ENGINES:
            for ph in ("run_fuel", "run_epochs"):
                r = ratio(m[(p, ph, e)], m[(p, "run", e)])
                cells.append(fmt(r))
                columns.setdefault(len(cells) - 1, []).append(r)
        lines.append("| " + " | ".join(cells) + " |")
    geo = ["**geomean**"] + [""] * (len(head) - 1)
    for col, rs in columns.items():
        g = geomean(rs)
        geo[col] = f"**{fmt(g)}**" if head[col] == "**ratio**" else fmt(g)
    lines.append("| " + " | ".join(geo) + " |")
    return "\n".join(lines) + "\n", run_ratios, geomean(run_ratios.values())


def chart(run_ratios, run_geomean):
    """Horizontal bars of wasmjit/Wasmtime run time, a line at 1 and one at the goal."""
    rows = list(run_ratios.items()) + [("geomean", run_geomean)]
    rows = [(n, r) for n, r in rows if r is not None]
    left, width, bar, gap, top = 110, 420, 18, 8, 40
    lo, hi = 0.0, max([1.1] + [r * 1.05 for _, r in rows])
    x = lambda v: left + (v - lo) / (hi - lo) * width
    height = top + len(rows) * (bar + gap) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="{left}" y="20" font-size="14">Run time, wasmjit / Wasmtime 48 '
        "(criterion medians; below 1: wasmjit faster)</text>",
    ]
    for i, (name, r) in enumerate(rows):
        y = top + i * (bar + gap)
        color = "#4c78a8" if name != "geomean" else "#333333"
        if r > RUN_GOAL and name != "geomean":
            color = "#e45756"
        out.append(f'<text x="{left - 6}" y="{y + bar - 5}" text-anchor="end">{name}</text>')
        out.append(
            f'<rect x="{x(lo)}" y="{y}" width="{x(r) - x(lo):.1f}" height="{bar}" fill="{color}"/>'
        )
        out.append(f'<text x="{x(r) + 4:.1f}" y="{y + bar - 5}">{r:.3f}</text>')
    axis_y = top + len(rows) * (bar + gap)
    for v, dash, label in ((1.0, "", "1.00"), (RUN_GOAL, ' stroke-dasharray="4 3"', "goal 1.02")):
        out.append(
            f'<line x1="{x(v):.1f}" y1="{top - 6}" x2="{x(v):.1f}" y2="{axis_y}" '
            f'stroke="#000"{dash}/>'
        )
    out.append(f'<text x="{x(1.0):.1f}" y="{axis_y + 16}" text-anchor="end">1.00</text>')
    out.append(f'<text x="{x(RUN_GOAL):.1f}" y="{axis_y + 30}">goal ≤ {RUN_GOAL}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) > 1:
        criterion = Path(sys.argv[1])
    else:
        criterion = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "criterion"
    names = programs(criterion)
    if not names:
        sys.exit(f"no programs_*_compile results under {criterion}")
    text, run_ratios, run_geomean = table(criterion, names)
    doc = DOC.read_text()
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    DOC.write_text(doc[:start] + "\n\n" + text + "\n" + doc[end:])
    SVG.write_text(chart(run_ratios, run_geomean))
    print(text, end="")
    print(f"wrote {DOC.relative_to(ROOT)} and {SVG.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
