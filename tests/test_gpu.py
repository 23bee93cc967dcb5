"""On a CUDA GPU (skipped without one; ``tools/gpu_check.sh`` runs them): scores agree with
the CPU's, scoring frees its GPU memory, and archs in flight on CUDA streams run."""

import gc
import importlib.util
import math
from pathlib import Path

import pytest
import torch

from trainfree.cli.timing import DEFAULT_SUITE

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ["|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|",
         "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|"]
# metrics whose value is a well-conditioned sum or log-determinant (condition numbers and
# signed sums near zero move more between devices): compared to 1e-2 relative, which
# catches a wrong device path, not float32 rounding
STABLE = ("grad_norm", "snip", "fisher", "synflow", "l2_norm", "naswot", "jacob_cov", "ntk_trace", "zen")


def _batch(n: int = 16):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)


def _scores(device: str) -> dict:
    from trainfree.metrics import score_archs

    df = score_archs("nb201", ARCHS, list(DEFAULT_SUITE), _batch(), dataset="cifar10", seed=1,
                     model_kwargs={"C": 8, "N": 1}, device=device, progress=False)
    return {(r.arch_id, r.metric): r.value for r in df.itertuples()}


def test_cuda_scores_agree_with_the_cpu():
    cpu, gpu = _scores("cpu"), _scores("cuda")
    assert cpu.keys() == gpu.keys()
    for key, a in cpu.items():
        b = gpu[key]
        assert math.isnan(a) == math.isnan(b), key
        if key[1] in STABLE and not math.isnan(a):
            assert b == pytest.approx(a, rel=1e-2, abs=1e-6), key


def test_cuda_scoring_frees_gpu_memory():
    from trainfree.metrics import ScoringContext, resolve, score_network
    from trainfree.spaces import get_space

    x, y = (t.cuda() for t in _batch())
    ms = resolve(list(DEFAULT_SUITE))

    def one(arch: str) -> None:
        model = get_space("nb201").build_model(arch, C=8, N=1)
        score_network(ScoringContext(model, x, y, "cuda"), ms)

    one(ARCHS[0])  # warm-up: cuDNN and cuBLAS workspaces stay allocated
    gc.collect()
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    for arch in ARCHS:
        one(arch)
    gc.collect()
    torch.cuda.synchronize()
    assert torch.cuda.memory_allocated() <= base


def test_cuda_archs_in_flight_on_streams(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "tools" / "gpu_check.py")
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    args = gpu_check.argparse.Namespace(device="cuda", threads=0, batch_size=16, seed=0, metrics="naswot,snip,grasp",
                                        C=8, N=1, archs=4, warmup=1)
    s = gpu_check.Setup(args)
    for k in (1, 2):
        row = gpu_check.in_flight_threads(s, k, 60.0)
        assert row["archs"] == 4 and row["archs_per_s"] > 0 and row["peak_allocated_mib"] > 0
