"""Time the default run: wall time of the whole run and per study and stage, from Snakemake's log.

    python tools/time_default_run.py                 # runs `snakemake --cores 2` in a fresh folder
    python tools/time_default_run.py --log FILE      # tabulates an existing run's log

The run goes to a temporary working directory (``-d``), so nothing in ``results/`` is reused.
Per (study, stage): the jobs, the sum of their wall times, and the span from the first start to
the last finish (jobs of several stages overlap on 2 cores, so the spans do not add up to the
total). Prints Markdown.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
START = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
DONE = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")


@cache
def _studies() -> tuple[str, ...]:
    """The default run's study names (config/config.yaml), longest first (rule-name prefixes)."""
    from trainfree.workflow_config import default_run_studies

    return tuple(sorted(default_run_studies(ROOT / "config" / "config.yaml"), key=len, reverse=True))


def parse(log: str) -> list[tuple[str, datetime, datetime]]:
    """(rule, start, end) of every finished job of a Snakemake log."""
    now, pending, started, jobs = None, None, {}, []
    for line in log.splitlines():
        if m := STAMP.match(line):
            now = datetime.strptime(m[1], "%a %b %d %H:%M:%S %Y")
        elif m := START.match(line):
            pending = m[1]
        elif (m := JOBID.match(line)) and pending:
            started[m[1]] = (pending, now)
            pending = None
        elif (m := DONE.match(line)) and m[1] in started:
            rule, t0 = started.pop(m[1])
            jobs.append((rule, t0, now))
    return jobs


def split(rule: str) -> tuple[str, str]:
    for s in _studies():
        if rule.startswith(s + "_"):
            return s, rule[len(s) + 1:]
    return "-", rule


def table(jobs: list[tuple[str, datetime, datetime]]) -> str:
    groups = defaultdict(list)
    for rule, t0, t1 in jobs:
        groups[split(rule)].append((t0, t1))
    lines = ["| study | stage | jobs | job time, s (sum) | span, s |", "|---|---|---|---|---|"]
    for (study, stage), spans in sorted(groups.items(), key=lambda kv: min(t0 for t0, _ in kv[1])):
        total = sum((t1 - t0).total_seconds() for t0, t1 in spans)
        span = (max(t1 for _, t1 in spans) - min(t0 for t0, _ in spans)).total_seconds()
        lines.append(f"| {study} | {stage} | {len(spans)} | {total:.0f} | {span:.0f} |")
    per_study = defaultdict(float)
    for rule, t0, t1 in jobs:
        per_study[split(rule)[0]] += (t1 - t0).total_seconds()
    lines += ["", "| study | job time, s (sum) |", "|---|---|"]
    lines += [f"| {s} | {v:.0f} |" for s, v in sorted(per_study.items(), key=lambda kv: -kv[1])]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=Path, help="an existing run's Snakemake log (skip the run)")
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    if args.log:
        text = args.log.read_text()
        wall = None
    else:
        work = Path(tempfile.mkdtemp(prefix="default_run_"))
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work),
                            "--cores", str(args.cores)], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t
        text = r.stdout + r.stderr
        if r.returncode != 0:
            print(text[-3000:], file=sys.stderr)
            return 1
        print(f"results in {work}")
    jobs = parse(text)
    first, last = min(t0 for _, t0, _ in jobs), max(t1 for _, _, t1 in jobs)
    print(f"{len(jobs)} jobs; first start to last finish {(last - first).total_seconds():.0f} s"
          + (f"; whole command {wall:.0f} s wall on {args.cores} cores" if wall else ""))
    print()
    print(table(jobs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
