"""Run the benchmarks: python -m bench [--smoke] [--only kernel,features,...] [--json PATH]."""

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

SUITES = ["kernel", "features", "app", "live", "load", "browser", "scaling", "uploads", "train"]


def machine() -> dict:
    import os

    import numpy as np

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }


def fmt(value, digits=2):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


COLUMNS = [
    ("group", "suite"),
    ("name", "case"),
    ("ours_ms", "ours ms"),
    ("ref_ms", "baseline ms"),
    ("bytes", "bytes"),
    ("ratio", "ratio"),
    ("budget", "budget"),
    ("mem_x", "mem ×input"),
    ("note", "note"),
]


def table_cells(rows) -> list[list[str]]:
    """A header row and one row of text cells per result, over the columns any result fills."""
    cols = [c for c in COLUMNS if any(r.get(c[0]) is not None for r in rows)]
    return [[title for _, title in cols]] + [[fmt(r.get(key)) for key, _ in cols] for r in rows]


def print_table(rows):
    table = table_cells(rows)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for k, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))


def markdown(report: dict) -> str:
    """The results as a Markdown table, with the machine they ran on (for the README)."""
    table = table_cells(report["rows"])
    lines = ["| " + " | ".join(row) + " |" for row in table]
    lines.insert(1, "|" + "---|" * len(table[0]))
    m = report["machine"]
    lines.append("")
    lines.append(f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, Python {m['python']}, numpy {m['numpy']}.")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds: checks the benchmarks still run")
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites: " + ", ".join(SUITES))
    parser.add_argument("--json", default="bench/results/latest.json", help="where to write the results")
    parser.add_argument("--markdown", metavar="JSON", help="print the results in JSON as a Markdown table and exit")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    rows, failures = [], []
    for name in args.only.split(","):
        name = name.strip()
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"bench.{name}":
                print(f"(no benchmark suite {name!r} yet)", file=sys.stderr)
                continue
            raise
        try:
            rows.extend(module.run(smoke=args.smoke))
        except Exception as err:  # a broken suite is reported, the others still run
            failures.append(f"{name}: {type(err).__name__}: {err}")
    print_table(rows)
    for failure in failures:
        print("FAILED", failure, file=sys.stderr)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "smoke": args.smoke, "rows": rows}, indent=2))
    print(f"\nwrote {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
