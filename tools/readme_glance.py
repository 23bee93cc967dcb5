"""Copy the default run's results-at-a-glance table into the README (or check that it is there).

    python tools/readme_glance.py            # writes results/default_run/glance.md into README.md
    python tools/readme_glance.py --check    # exit 1 when the README's copy differs from the file
    python tools/readme_glance.py --snapshot # also copy the run's glance inputs to tests/expected/default_run/

The snapshot (the final tables the glance is built from, and which study made each) lets the
test suite check, without running the default run, that the README's table is what the code
renders from the run's tables (``tests/test_glance.py``). The table sits between the ``<!-- glance -->`` and ``<!-- /glance -->`` markers of README.md.
``--results DIR`` reads ``DIR/default_run/glance.md`` instead of ``results/`` (e.g. a run in
another working directory).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- glance -->", "<!-- /glance -->"
SNAPSHOT = ROOT / "tests" / "expected" / "default_run"
def snapshot(results: Path, out: Path = SNAPSHOT) -> None:
    """Copy the glance's input tables of a default run to ``out`` (``<table>.csv`` + ``studies.json``)."""
    import json
    import shutil

    import yaml

    out.mkdir(parents=True, exist_ok=True)
    studies = {}
    from trainfree.analysis.glance import GLANCE_TABLES

    for table, (name, csv) in GLANCE_TABLES.items():
        study = yaml.safe_load((ROOT / "config" / "default" / f"{name}.yaml").read_text())["study"]
        shutil.copyfile(results / study / "tables" / f"{csv}.csv", out / f"{table}.csv")
        studies[table] = study
    (out / "studies.json").write_text(json.dumps(studies, indent=2) + "\n")


def readme_block(text: str) -> str:
    """The README's text between the markers."""
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the {START} ... {END} markers")
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n")


def replace_block(text: str, block: str) -> str:
    head, rest = text.split(START, 1)
    return head + START + "\n" + block.strip("\n") + "\n" + END + rest.split(END, 1)[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    ap.add_argument("--results", type=Path, default=ROOT / "results", help="results folder of the run")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--snapshot", action="store_true", help="also copy the glance's input tables to tests/expected")
    args = ap.parse_args()
    table = (args.results / "default_run" / "glance.md").read_text()
    text = args.readme.read_text()
    if args.check:
        same = readme_block(text).strip() == table.strip()
        print("README glance table equals the run's" if same else "README glance table differs from the run's")
        return 0 if same else 1
    args.readme.write_text(replace_block(text, table))
    if args.snapshot:
        snapshot(args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
