"""Wall time of the whole test suite and of the book build, so each new chapter sees what it costs.

    python3 benchmarks/suite_time.py            # both, in an existing (or new) .venv
    python3 benchmarks/suite_time.py --slowest 15

Prints the time of each command and pytest's slowest tests (notebooks included), one per line.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(label: str, command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode:
        sys.stdout.write(result.stdout[-4000:] + result.stderr[-4000:])
        sys.exit(f"{label} failed (exit {result.returncode}) after {seconds:.1f} s")
    return seconds, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slowest", type=int, default=10, help="how many of the slowest tests to list")
    args = parser.parse_args()
    run = [sys.executable, "tools/run.py"]
    timed("environment set-up", [*run, "setup"])  # not timed below: installs only when requirements changed
    test_s, test_out = timed("test suite", [*run, "test", f"--durations={args.slowest}", "-q"])
    build_s, _ = timed("book build", [*run, "build"])
    print(f"{'test suite (ruff + pytest + nbval)':40s} {test_s:8.1f} s")
    print(f"{'book build (jupyter-book, -W, --all)':40s} {build_s:8.1f} s")
    durations = [line for line in test_out.splitlines() if line.strip().endswith(("call", "setup", "teardown"))]
    if durations:
        print(f"\nslowest {len(durations)} tests:")
        print("\n".join(durations))


if __name__ == "__main__":
    main()
