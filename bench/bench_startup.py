"""Start-up time of `skillpm --help` and `skillpm --version`, beside `python -c pass`.

    python bench/bench_startup.py [--runs 30]

Each command runs N times in a fresh interpreter; the table shows the median and
the best wall time, and which heavy modules `--help` imported (it must be none
of httpx, pydantic, yaml, git).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def measure(cmd: list[str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def heavy_imports() -> list[str]:
    code = (
        "import sys; sys.argv=['skillpm','--help']\n"
        "from skillpm.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY:' + ','.join(sorted({m.split('.')[0] for m in sys.modules} & {'httpx','pydantic','yaml','git','rich','fastapi'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("HEAVY:"))
    return [m for m in line[len("HEAVY:") :].split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    rows = [
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
        ("skillpm --version", [sys.executable, "-m", "skillpm", "--version"]),
        ("skillpm --help", [sys.executable, "-m", "skillpm", "--help"]),
    ]
    print(f"{'command':<28} {'median ms':>10} {'best ms':>9}")
    for label, cmd in rows:
        median, best = measure(cmd, args.runs)
        print(f"{label:<28} {median * 1000:>10.1f} {best * 1000:>9.1f}")
    print(f"heavy modules imported by --help: {heavy_imports() or 'none'}")


if __name__ == "__main__":
    main()
