"""tools/gpu_check.sh without a GPU: a CPU dry run writes its files; --device cuda fails loudly."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "gpu_check.sh"


def _run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=ROOT)


def test_cpu_dry_run_writes_the_figures(tmp_path):
    r = _run("--device", "cpu", "--archs", "3", "--warmup", "1", "--C", "2", "--N", "1", "--batch-size", "4",
             "--metrics", "naswot,snip,synflow", "--in-flight", "1,2", "--modes", "threads", "--phase-s", "5",
             "--threads", "1", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["metrics"] == ["naswot", "snip", "synflow"]
    assert set(report["per_metric"]["metric_ms_median"]) == {"naswot", "snip", "synflow"}
    assert [(row["mode"], row["in_flight"]) for row in report["in_flight"]] == [("threads", 1), ("threads", 2)]
    assert all(1 <= row["archs"] <= 3 and row["archs_per_s"] > 0 for row in report["in_flight"])
    tests = report["tests"]  # the CUDA tests ran and, without a GPU, were skipped
    assert tests["failed"] == [] and tests["skipped"] and "no CUDA device" in tests["skipped"][0]
    md = (tmp_path / "gpu_check.md").read_text()
    assert "| naswot |" in md and "## Archs in flight" in md and "## CUDA tests" in md


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_without_a_gpu_the_gpu_check_fails_loudly(tmp_path):
    r = _run("--device", "cuda", "--out", str(tmp_path), timeout=120)
    assert r.returncode == 3
    assert "no CUDA GPU visible" in r.stderr
    assert not (tmp_path / "gpu_check.md").exists()
