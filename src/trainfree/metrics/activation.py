"""Activation metrics of NASWOT and DAS, from one forward pass.

For a batch of n inputs take the *input* of every ReLU on the path to the output,
binarise it (``> 0``) and flatten per sample: code c_i in {0,1}^{N_A}. With the
Hamming kernel K_H[i, j] = N_A - d_H(c_i, c_j):

- ``naswot``                 = log|K_H|           (Mellor et al., 2021)
- ``activation_units``       = N_A
- ``distinguishing_ability`` = log|K_H / N_A| <= 0 (DAS), so that
  ``naswot = n * log(activation_units) + distinguishing_ability`` exactly.

Procedure of the original: only ReLUs visited by a backward pass from the output
count; train-mode BN; the kernel is accumulated in float64; ``slogdet``.

The visited ReLUs are found during the one no-grad forward itself (``ReluTrace``): every
torch operation passes on the set of ReLU modules upstream of its floating-point
inputs, so the set attached to the network output is the set of ReLUs a backward pass
from it would reach. ``backward_visited_relus`` (an autograd probe) is kept as the
reference it is tested against.
"""

from __future__ import annotations

import math
import weakref
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from trainfree.metrics.registry import register_metric

#: attribute under which a tensor carries the ReLU modules upstream of it during a trace
_TAG = "_trainfree_relus"
#: dtypes whose codes are taken in NumPy as they are (others are widened to float32 first)
_NUMPY_FLOATS = (torch.float16, torch.float32, torch.float64)

#: operations through which no gradient flows (their outputs carry no ReLUs)
_NO_GRAD_FUNCS = {torch.Tensor.detach, torch.Tensor.detach_, torch.detach}


@dataclass(frozen=True)
class ReluKernel:
    """K_H (n x n, float64) and N_A, the number of binary units it was built from."""

    K: np.ndarray
    n_units: int
    n_relus: int


def _reachable(root: torch.Tensor) -> set:
    """Every autograd node a backward pass from ``root`` would visit."""
    seen: set = set()
    stack = [root.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        stack.extend(nxt for nxt, _ in fn.next_functions)
    return seen


def backward_visited_relus(model: nn.Module, x: torch.Tensor) -> list[nn.ReLU]:
    """ReLU modules whose output a backward pass from the network output reaches.

    Decided on a 2-sample forward with autograd by walking the graph (the structure,
    not the values, decides it), so the full batch can then run without autograd.
    """
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    outputs: dict[int, list] = {id(m): [] for m in relus}
    hooks = [m.register_forward_hook(lambda mod, i, o: outputs[id(mod)].append(o.grad_fn)) for m in relus]
    try:
        with torch.enable_grad():
            probe = x[:2].detach().clone().requires_grad_(True)
            out = model(probe)
        reach = _reachable(out)
    finally:
        for h in hooks:
            h.remove()
    return [m for m in relus if any(fn is not None and fn in reach for fn in outputs[id(m)])]


def _tensors(obj) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _tag(t: torch.Tensor, relus: frozenset) -> None:
    if t.is_floating_point() or t.is_complex():
        old = getattr(t, _TAG, frozenset())
        setattr(t, _TAG, old | relus)


class ReluTrace(TorchFunctionMode):
    """Data-flow trace of ReLU modules through a (no-grad) forward.

    Each torch operation tags its floating-point outputs with the union of the ReLU sets
    of its tensor arguments (an in-place op adds to its operand's set); a ReLU module's
    output adds the module itself (``relu_hook``). Gradient-free operations (``detach``,
    and any op with integer/bool outputs, e.g. comparisons) pass nothing on. Assumes
    the network's data flow goes through torch operations (no ``.data``/NumPy round trips).
    """

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in _NO_GRAD_FUNCS:
            return out
        relus: frozenset = frozenset()
        for t in _tensors(args) + _tensors(kwargs or {}):
            relus = relus | getattr(t, _TAG, frozenset())
        if relus:
            for t in _tensors(out):
                _tag(t, relus)
        return out

    @staticmethod
    def relu_hook(m: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        """Forward hook of a ReLU module: its output carries its input's set and itself."""
        _tag(out, getattr(inp[0], _TAG, frozenset()) | {m})

    @staticmethod
    def relus_of(out) -> frozenset:
        """The ReLU modules upstream of (any tensor of) the network output ``out``."""
        s: frozenset = frozenset()
        for t in _tensors(out):
            s = s | getattr(t, _TAG, frozenset())
        return s


def _row_bands(n: int, parts: int) -> list[range]:
    """Rows 0..n-1 in ``parts`` interleaved bands; row i costs n - i pairs, so striding
    balances the work."""
    return [range(p, n, parts) for p in range(parts)]


def _hamming_rows(words: np.ndarray, units: int, rows: range, K: np.ndarray) -> None:
    n = words.shape[0]
    xor = np.empty_like(words)
    count = np.empty(words.shape, dtype=np.uint8)
    # uint32 row sums are faster than int64 ones, and exact while a row holds < 2**32 bits
    acc = np.uint32 if words.shape[1] * 64 < 2**32 else np.int64
    for i in rows:
        m = n - i
        np.bitwise_xor(words[i], words[i:], out=xor[:m])
        np.bitwise_count(xor[:m], out=count[:m])
        same = units - count[:m].sum(1, dtype=acc).astype(np.int64)
        K[i, i:] = same
        K[i:, i] = same


_POOL: ThreadPoolExecutor | None = None


def _hamming_kernel_packed(packed: np.ndarray, units: int, threads: int = 1) -> np.ndarray:
    """K_H = N_A - d_H from bit-packed codes (n, bytes; padding bits 0 in every row), by
    XOR + popcount (upper triangle, mirrored). Integer arithmetic: exact; float64.

    ``threads`` > 1 splits the rows over that many threads (NumPy releases the GIL in
    these loops); each entry is written by one thread, so the result does not depend on it.
    """
    global _POOL
    n = packed.shape[0]
    pad = (-packed.shape[1]) % 8
    if pad:  # zero padding bits are equal in every row: they never count as a difference
        packed = np.pad(packed, ((0, 0), (0, pad)))
    words = packed.view(np.uint64)
    K = np.empty((n, n), dtype=np.float64)
    threads = max(1, min(threads, n))
    if threads == 1:
        _hamming_rows(words, units, range(n), K)
        return K
    if _POOL is None or _POOL._max_workers < threads:
        _POOL = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="trainfree-hamming")
    list(_POOL.map(lambda rows: _hamming_rows(words, units, rows, K), _row_bands(n, threads)))
    return K


class _CodeCache:
    """Codes of each distinct ReLU input tensor, computed once.

    In a cell a node's output feeds several edges, and each ``ReLU -> Conv -> BN`` edge
    binarises that same tensor: its codes are packed once and counted once per call. A
    tensor is recognised by identity (a live weak reference to the same object) and
    unchanged version counter, so a freed tensor whose id is reused, or one changed in
    place, is packed again.
    """

    def __init__(self) -> None:
        self.parts: list[tuple[object, int]] = []  # (packed codes or K part, units)
        self._seen: dict[int, tuple[weakref.ref, int, int]] = {}

    def index(self, t: torch.Tensor, pack: Callable[[torch.Tensor], tuple[object, int]]) -> int:
        hit = self._seen.get(id(t))
        if hit is not None and hit[0]() is t and hit[1] == t._version:
            return hit[2]
        self.parts.append(pack(t))
        i = len(self.parts) - 1
        self._seen[id(t)] = (weakref.ref(t), t._version, i)
        return i


def relu_kernel(model: nn.Module, x: torch.Tensor, threads: int | None = None) -> ReluKernel:
    """The Hamming kernel of the binary codes at the inputs of backward-visited ReLUs.

    One no-grad forward under ``ReluTrace`` records every ReLU call's codes and finds
    the visited ReLUs; only their calls enter K, each as often as it is called (the
    codes of one tensor feeding several ReLUs are computed once and weighted by the
    number of visited calls on it). On CPU (NumPy >= 2) codes are bit-packed (each call
    padded to whole bytes with zeros, which never differ) and K_H[i, j] = N_A -
    popcount(c_i XOR c_j) is computed in integers: exact, and several times cheaper than
    the float Gram product (2 n^2 N_A flops); the rows are split over ``threads``
    threads (default: torch's intra-op thread count). Otherwise, per ReLU input with
    codes C (n x u): K += C C^T + (1-C)(1-C)^T, computed as 2 C C^T - r 1^T - 1 r^T + u
    with r = C 1 (one matmul; exact in float32 for u < 2^24, accumulated in float64).
    Both paths give identical values.
    """
    n = x.shape[0]
    packed_path = x.device.type == "cpu" and hasattr(np, "bitwise_count")
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    cache = _CodeCache()
    calls: list[tuple[nn.Module, int]] = []  # (module, index into cache.parts)

    codes = np.empty(0, dtype=bool)  # one buffer for every call's codes: no fresh pages each time

    def pack(t: torch.Tensor) -> tuple[object, int]:
        nonlocal codes
        a = t.detach()
        if a.dim() == 4 and not a.is_contiguous() and a.is_contiguous(memory_format=torch.channels_last):
            a = a.permute(0, 2, 3, 1)  # the same units in another order (K does not depend on it), no copy
        a = a.reshape(n, -1)
        u = a.shape[1]
        if packed_path:  # NumPy's vectorised compare: several times faster than torch's here
            if a.dtype not in _NUMPY_FLOATS:
                a = a.float()
            if codes.size < a.numel():
                codes = np.empty(a.numel(), dtype=bool)
            c = codes[:a.numel()].reshape(n, u)
            np.greater(a.numpy(), 0, out=c)
            return np.packbits(c, axis=1), u
        cf = (a > 0).float()
        r = cf.sum(1, dtype=torch.float64)
        return 2.0 * (cf @ cf.T).double() - r[:, None] - r[None, :] + u, u

    def hook(m: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        calls.append((m, cache.index(inp[0], pack)))
        ReluTrace.relu_hook(m, inp, out)

    hooks = [m.register_forward_hook(hook) for m in relus]
    try:
        with torch.no_grad(), ReluTrace():
            out = model(x)
        visited = ReluTrace.relus_of(out)
    finally:
        for h in hooks:
            h.remove()
    weight = Counter(i for m, i in calls if m in visited)  # part -> visited calls on it
    units = sum(cache.parts[i][1] * w for i, w in weight.items())
    n_relus = sum(1 for m in relus if m in visited)
    if packed_path:
        K = np.zeros((n, n), dtype=np.float64)
        threads = torch.get_num_threads() if threads is None else threads
        for w in sorted(set(weight.values())):  # one kernel per call count, then weighted
            parts = [cache.parts[i] for i, wi in weight.items() if wi == w]
            Kw = _hamming_kernel_packed(np.concatenate([p for p, _ in parts], axis=1),
                                        sum(u for _, u in parts), threads)
            K += w * Kw
        return ReluKernel(K, units, n_relus)
    K = torch.zeros(n, n, dtype=torch.float64, device=x.device)
    for i, w in weight.items():
        K += w * cache.parts[i][0]
    return ReluKernel(K.cpu().numpy(), units, n_relus)


def _kernel(ctx) -> ReluKernel:
    return ctx.shared("relu_kernel", lambda c: relu_kernel(c.model, c.forward_x))


def logdet(K: np.ndarray) -> float:
    """log|det K| by ``slogdet``, whatever its sign, as Mellor et al.'s ``hooklogdet`` returns.

    K is positive semi-definite in exact arithmetic; a negative sign only comes from
    round-off on a nearly singular K, where the reference still returns log|det K|.
    A singular K (sign 0) gives -inf, which the engine stores as NaN (tables report tau
    with those archs dropped and with them ranked last, as the reference's -inf does).
    """
    _sign, ld = np.linalg.slogdet(K)
    return float(ld)


@register_metric("naswot", higher_is_better=True, passes=("relu_kernel",))
def naswot(ctx) -> float:
    """log|K_H| over binary ReLU-input codes (Mellor et al., ICML 2021)."""
    return logdet(_kernel(ctx).K)


@register_metric("activation_units", higher_is_better=True, passes=("relu_kernel",))
def activation_units(ctx) -> float:
    """N_A: number of binary units (ReLU inputs on the backward path) per sample."""
    return float(_kernel(ctx).n_units)


@register_metric("distinguishing_ability", higher_is_better=True, passes=("relu_kernel",))
def distinguishing_ability(ctx) -> float:
    """D = log|K_H / N_A| <= 0; 0 iff all codes are mutually orthogonal (DAS)."""
    k = _kernel(ctx)
    if k.n_units == 0:
        return float("nan")
    return logdet(k.K / k.n_units)


def naswot_from_atoms(distinguishing: float, units: float, n: int) -> float:
    """The exact decomposition: log|K_H| = n log N_A + log|K_H / N_A|."""
    return n * math.log(units) + distinguishing
