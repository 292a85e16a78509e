"""Run the benchmarks: `python -m bench [name ...]` (names without the `bench_` prefix).

Each module's result is printed as a table and written to `bench/results/<name>.json`. A
benchmark that fails is reported and the others still run; the exit code says whether all
ran and met their targets.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


def discover(names: list[str]) -> list[str]:
    found = sorted(path.stem for path in BENCH_DIR.glob("bench_*.py"))
    if not names:
        return found
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in names]
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; have: {', '.join(found)}")
    return wanted


def render(console: Console, name: str, result: dict[str, Any], seconds: float) -> None:
    rows = result.get("rows") or []
    table = Table(title=f"{result.get('title', name)}  ({seconds:.1f} s)")
    columns = list(dict.fromkeys(key for row in rows for key in row))
    for column in columns:
        table.add_column(column, justify="left" if column in ("case", "what") else "right")
    for row in rows:
        table.add_row(*(str(row.get(column, "")) for column in columns))
    console.print(table)
    if "target" in result:
        verdict = "[green]met[/]" if result.get("met") else "[red]NOT met[/]"
        console.print(f"target: {result['target']} -> {verdict}")
    for line in result.get("notes", []):
        console.print(f"  {line}")


def main(argv: list[str]) -> int:
    console = Console()
    RESULTS_DIR.mkdir(exist_ok=True)
    ok = True
    for module_name in discover(argv):
        started = time.perf_counter()
        try:
            result = importlib.import_module(f"bench.{module_name}").run()
        except Exception:
            console.print(f"[red]{module_name} failed[/]\n{traceback.format_exc()}")
            ok = False
            continue
        seconds = time.perf_counter() - started
        name = str(result.get("name") or module_name.removeprefix("bench_"))
        render(console, name, result, seconds)
        result = {**result, "seconds": round(seconds, 2), "measured_at": time.time()}
        path = RESULTS_DIR / f"{name}.json"
        path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        console.print(f"  written to {path.relative_to(BENCH_DIR.parent)}\n")
        ok = ok and result.get("met", True) is not False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
