"""How far the reproducibility study's numbers move between CPU kernels and thread counts.

Runs the tiny study of ``tests/test_reliability.py`` (the one the reproducibility check compares
with ``tests/expected/``) once per variant, each in a fresh work folder with a frozen copy of the
package, and tabulates per quantity the largest relative and absolute difference between the
variants, and between each variant and the committed expected tables.

The variants emulate other x86-64 CPUs on this one by capping the instruction set each library
dispatches to: ATen's own kernels (``ATEN_CPU_CAPABILITY``), oneDNN's convolutions
(``ONEDNN_MAX_CPU_ISA``) and MKL's BLAS (``MKL_ENABLE_INSTRUCTIONS``). A capability the CPU lacks
is ignored by the library, so on an AVX2 machine the AVX-512 rows equal the AVX2 rows.

    python tools/cross_cpu_repro.py                       # every variant (about 1 min each)
    python tools/cross_cpu_repro.py --variants native native-repeat aten-avx2
    python tools/cross_cpu_repro.py --reuse               # re-tabulate the saved runs
    python tools/cross_cpu_repro.py --missing             # run only the variants not saved yet

Each run's tables are saved under ``--out`` (``<variant>/tiny_*.csv``); the difference tables
are printed as Markdown and written to ``<out>/differences.md``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import run_snakemake  # noqa: E402
from test_reliability import EXPECTED, TINY, _expected_frames  # noqa: E402

_AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
_SSE = {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}
_TWO_THREADS = ("--set-threads", "score_shard=2", "train_shard=2")
#: name -> (environment, extra Snakemake arguments, what it emulates)
VARIANTS: dict[str, tuple[dict, tuple, str]] = {
    "native": ({}, (), "this CPU's best kernels, 1 torch thread per job (the workflow's default)"),
    "native-repeat": ({}, (), "the same run again (same-machine repeatability)"),
    "native-2threads": ({}, _TWO_THREADS, "1 job at a time with 2 torch threads"),
    "aten-avx2": ({"ATEN_CPU_CAPABILITY": "avx2"}, (), "ATen kernels capped at AVX2"),
    "aten-default": ({"ATEN_CPU_CAPABILITY": "default"}, (), "ATen's non-vectorised kernels"),
    "avx2-all": (_AVX2, (), "ATen, oneDNN and MKL capped at AVX2 (an AVX2-only CPU; CI's second run)"),
    "avx2-all-2threads": (_AVX2, _TWO_THREADS, "an AVX2-only CPU, 2 torch threads"),
    "sse-all": (_SSE, (), "ATen default, oneDNN SSE4.1, MKL SSE4.2 (a baseline x86-64-v2 CPU)"),
}


def run_variant(name: str, out: Path) -> dict[str, pd.DataFrame]:
    env_extra, extra, _ = VARIANTS[name]
    with tempfile.TemporaryDirectory(prefix=f"xcpu-{name}-") as tmp:
        tmp = Path(tmp)
        pkg = tmp / "pkg"
        shutil.copytree(ROOT / "src" / "trainfree", pkg / "trainfree",
                        ignore=shutil.ignore_patterns("__pycache__"))
        work = tmp / "run"
        work.mkdir()
        env = {**os.environ, **env_extra, "PYTHONPATH": str(pkg)}
        probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                               capture_output=True, text=True, env=env)
        r = run_snakemake(work, TINY, "--cores", "2", "-q", *extra, env=env)
        if r.returncode:
            sys.exit(f"{name}: the tiny study failed:\n{r.stderr[-3000:]}")
        frames = _expected_frames(work)
    dest = out / name
    dest.mkdir(parents=True, exist_ok=True)
    for t, df in frames.items():
        df.to_csv(dest / f"{t}.csv", index=False, float_format="%.17g")
    (dest / "capability.txt").write_text(probe.stdout.strip() + "\n")
    return frames


def _load(folder: Path) -> dict[str, pd.DataFrame]:
    return {t: pd.read_csv(folder / f"{t}.csv") for t in ("tiny_scores", "tiny_test_acc", "tiny_correlations")}


def quantities(frames: dict[str, pd.DataFrame]) -> dict[str, pd.Series]:
    """{quantity: values indexed by row key}: each metric at each k, the test accuracy at each
    number of epochs, each correlation statistic of each metric."""
    q: dict[str, pd.Series] = {}
    s = frames["tiny_scores"]
    for (k, m), g in s.groupby(["fast_steps", "metric"]):
        q[f"score k={k} {m}"] = g.set_index("arch_id").value.sort_index()
    a = frames["tiny_test_acc"]
    for e, g in a.groupby("epochs"):
        q[f"test acc @{e}ep"] = g.set_index("arch_id").value.sort_index()
    c = frames["tiny_correlations"]
    for stat in ("kendall", "spearman"):
        q[f"{stat} (k=0 vs acc)"] = c.set_index("metric")[stat].sort_index()
    return q


def diff(a: pd.Series, b: pd.Series) -> tuple[float, float, int]:
    """(max relative, max absolute difference, rows not bitwise equal); NaN == NaN."""
    x, y = a.to_numpy(float), b.reindex(a.index).to_numpy(float)
    both_nan = np.isnan(x) & np.isnan(y)
    d = np.where(both_nan, 0.0, np.abs(x - y))
    d = np.where(np.isnan(d), np.inf, d)  # NaN on one side only
    scale = np.maximum(np.abs(x), np.abs(y))
    rel = np.divide(d, scale, out=np.zeros_like(d), where=scale > 0)
    return float(rel.max(initial=0.0)), float(d.max(initial=0.0)), int((d > 0).sum())


def tabulate(runs: dict[str, dict[str, pd.DataFrame]], caps: dict[str, str]) -> str:
    names = list(runs)
    qs = {n: quantities(f) for n, f in runs.items()}
    exp = quantities(_load(EXPECTED))
    lines = ["Largest difference over every pair of variants "
             f"({', '.join(names)}), and between any variant and tests/expected/:", "",
             "| quantity | rows | max rel | max abs | rows moved (of pairs x rows) | max rel vs expected |",
             "|---|---:|---:|---:|---:|---:|"]
    for q in qs[names[0]]:
        rel = ab = moved = 0
        for x, y in itertools.combinations(names, 2):
            r, a, m = diff(qs[x][q], qs[y][q])
            rel, ab, moved = max(rel, r), max(ab, a), moved + m
        rexp = max(diff(qs[n][q], exp[q])[0] for n in names)
        pairs = len(names) * (len(names) - 1) // 2
        lines.append(f"| {q} | {len(qs[names[0]][q])} | {rel:.2e} | {ab:.3g} | {moved} of {pairs * len(qs[names[0]][q])} "
                     f"| {rexp:.2e} |")
    ref = names[0]
    lines += ["", f"Per variant: max relative difference from `{ref}` (k=0 scores | k>0 scores | test acc | "
              "correlations); ISA = ATen's capability in that run:", "",
              "| variant | ISA | emulates | k=0 | k>0 | acc | corr |", "|---|---|---|---:|---:|---:|---:|"]
    for n in names:
        groups = {"k=0": [], "k>0": [], "acc": [], "corr": []}
        for q in qs[n]:
            g = ("k=0" if q.startswith("score k=0") else "k>0" if q.startswith("score") else
                 "acc" if q.startswith("test acc") else "corr")
            groups[g].append(diff(qs[n][q], qs[ref][q])[0])
        lines.append(f"| {n} | {caps.get(n, '?')} | {VARIANTS.get(n, ({}, (), ''))[2]} | "
                     + " | ".join(f"{max(v, default=0):.2e}" for v in groups.values()) + " |")
    return "\n".join(lines) + "\n"



def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--out", type=Path, default=ROOT / "results" / "cross_cpu_repro")
    p.add_argument("--reuse", action="store_true", help="tabulate the runs saved under --out, run nothing")
    p.add_argument("--missing", action="store_true", help="run only the variants not saved under --out yet")
    args = p.parse_args(argv)
    runs, caps = {}, {}
    for n in args.variants:
        if args.reuse or (args.missing and (args.out / n / "tiny_scores.csv").exists()):
            if not (args.out / n / "tiny_scores.csv").exists():
                continue
            runs[n] = _load(args.out / n)
        else:
            print(f"running {n}: {VARIANTS[n][2]}", file=sys.stderr, flush=True)
            run_variant(n, args.out)
            runs[n] = _load(args.out / n)  # the saved (17-digit) tables, as --reuse reads them
        cap = args.out / n / "capability.txt"
        caps[n] = cap.read_text().strip() if cap.exists() else "?"
    if len(runs) < 2:
        sys.exit("need at least two variants")
    table = tabulate(runs, caps)
    (args.out / "differences.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
