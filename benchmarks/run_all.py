"""Run every ``benchmarks/bench_*.py`` in its own process; non-zero exit when any bar is missed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    wanted = set(argv)
    failed: list[str] = []
    for script in sorted(here.glob("bench_*.py")):
        if wanted and script.stem.removeprefix("bench_") not in wanted:
            continue
        print(f"\n== {script.name}", flush=True)
        # Module mode so the benchmarks package (harness) imports the same way everywhere.
        rc = subprocess.call([sys.executable, "-m", f"benchmarks.{script.stem}"], cwd=here.parent)
        if rc != 0:
            failed.append(script.name)
    if failed:
        print(f"\nbars missed or errors in: {', '.join(failed)}")
        return 1
    print("\nall bars hold")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
