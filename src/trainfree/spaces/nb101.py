"""NAS-Bench-101 space: cell codec, official module hash, sampler and network builder.

A cell is a DAG of at most 7 vertices given as an upper-triangular 0/1 adjacency
matrix (row = source, column = destination) and one op per vertex: ``input`` first,
``output`` last, each interior vertex one of ``conv3x3-bn-relu``, ``conv1x1-bn-relu``,
``maxpool3x3``. As in the official API, a cell is first *pruned*: vertices not on some
input->output path are deleted; the pruned cell must have <= 7 vertices and <= 9 edges.

Accepted forms (``canonical``/``spec``/``build_model``):

- the NAS-Bench-Suite-Zero 56-tuple key ``"(m00, ..., m66, o0, ..., o6)"``: the 7x7
  matrix row-major then 7 op codes (0 input, 1 output, 2 maxpool3x3, 3 conv1x1-bn-relu,
  4 conv3x3-bn-relu: NASLib's order, proved by the parameter counts of all 250 shared
  cells; the opposite order 2 conv3x3 .. 4 maxpool matches none of them);
- JSON ``{"matrix": [[...]], "ops": [...]}`` with ops by name (any size 2..7);
- a module hash already returned by ``canonical`` in this process (the hash is one-way).

The canonical id is the official module hash (``graph_util.hash_module`` of the pruned
cell with labels input=-1, output=-2, conv3x3=0, conv1x1=1, maxpool=2): MD5 of iterated
neighbourhood hashes, equal for isomorphic cells and the key of ``nasbench_only108``.
``spec`` returns the compact JSON of the pruned cell.

A cell whose output is not reachable from its input has no official hash; it gets the
id ``unreachable-<hash of the unpruned cell>`` and its network returns NaN logits from
a NaN input, so every metric scores NaN (stored as NaN by the engine) without error.

The network is the benchmark's: stem conv3x3-BN-ReLU (128 ch), 3 stacks of 3 modules,
2x2 max-pool (stride 2) and doubled channels before stacks 2 and 3, global average
pool, dense. Inside a module the output channels are split over the vertices feeding
the output (``compute_vertex_channels``), the input reaches a vertex through a 1x1
conv-BN-ReLU projection, interior edges are summed (truncating a surplus channel), the
output concatenates its inputs and adds the projected input when input->output is an
edge. BN momentum 0.003 (TF 0.997) and eps 1e-5; ReLUs are out-of-place.
"""

from __future__ import annotations

import ast
import hashlib
import json

import numpy as np
import torch
from torch import nn

from trainfree.errors import TrainfreeError
from trainfree.spaces.pooling import MaxPool2d

NAME = "nb101"
MODEL_DEFAULTS: dict = {"stem_channels": 128, "num_stacks": 3, "num_modules_per_stack": 3}
INPUT, OUTPUT = "input", "output"
CONV3X3, CONV1X1, MAXPOOL3X3 = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
OPS: tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)  # official available_ops order
CODES: tuple[str, ...] = (INPUT, OUTPUT, MAXPOOL3X3, CONV1X1, CONV3X3)  # Suite-Zero (NASLib) op codes
MAX_VERTICES, MAX_EDGES = 7, 9
BN_MOMENTUM, BN_EPS = 1.0 - 0.997, 1e-5
EXAMPLE = ('{"matrix":[[0,1,1,0],[0,0,0,1],[0,0,0,1],[0,0,0,0]],'
           '"ops":["input","conv3x3-bn-relu","maxpool3x3","output"]}')
_FORM = ('a 56-tuple "(49 matrix entries row-major, 7 op codes 0..4)", JSON {"matrix": [[...]], '
         '"ops": [...]} with ops in input, conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3, output, '
         'or a hash canonicalised before')

# hash -> (pruned matrix, ops) of every cell canonicalised in this process
_KNOWN: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}


def _bad(arch: object, why: str) -> TrainfreeError:
    text = arch if not isinstance(arch, str) or len(arch) <= 200 else arch[:200] + "..."
    return TrainfreeError(f"malformed NB101 cell {text!r}: {why}; expected {_FORM}, e.g. {EXAMPLE}")


# --------------------------------------------------------------------------- codec

def _parse(arch: object) -> tuple[np.ndarray, tuple[str, ...]] | str:
    """Any accepted form -> (matrix, ops) as given (unpruned), or a known hash."""
    if isinstance(arch, dict):
        return _from_json(arch, arch)
    if not isinstance(arch, str):
        raise _bad(arch, "not a string")
    text = arch.strip()
    if text in _KNOWN:
        return text
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise _bad(arch, f"invalid JSON ({e.msg} at char {e.pos})") from None
        except RecursionError:
            raise _bad(arch, "invalid JSON (nested too deeply)") from None
        return _from_json(obj, arch)
    if text.startswith(("(", "[")):
        try:
            vals = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise _bad(arch, "the tuple is not a comma-separated list of integers") from None
        if not isinstance(vals, (tuple, list)) or not all(isinstance(v, int) and not isinstance(v, bool)
                                                          for v in vals):
            raise _bad(arch, "the tuple must hold integers only")
        if len(vals) != 56:
            raise _bad(arch, f"the tuple has {len(vals)} entries, need 56 (49 matrix + 7 op codes)")
        matrix = np.array(vals[:49], dtype=np.int64).reshape(7, 7)
        codes = vals[49:]
        bad = [c for c in codes if not 0 <= c < len(CODES)]
        if bad:
            raise _bad(arch, f"unknown op code {bad[0]} (codes: 0 input, 1 output, 2 maxpool3x3, "
                             f"3 conv1x1-bn-relu, 4 conv3x3-bn-relu)")
        return _check(matrix, tuple(CODES[c] for c in codes), arch)
    if len(text) == 32 and all(c in "0123456789abcdef" for c in text):
        raise TrainfreeError(
            f"NB101 module hash {text!r} was not canonicalised in this process, and a hash cannot be "
            f"turned back into a cell; pass the cell itself ({_FORM.split(', or')[0]})")
    if text.startswith("unreachable-"):
        raise TrainfreeError(f"NB101 id {text!r} names a cell with no input->output path that was not "
                             f"canonicalised in this process; pass the cell itself")
    raise _bad(arch, "not a tuple, a JSON object or a known module hash")


def _from_json(obj: object, arch: object) -> tuple[np.ndarray, tuple[str, ...]]:
    if not isinstance(obj, dict) or set(obj) != {"matrix", "ops"}:
        raise _bad(arch, 'the JSON must be an object with exactly the keys "matrix" and "ops"')
    m, ops = obj["matrix"], obj["ops"]
    if (not isinstance(m, list) or not m or not all(isinstance(r, list) and len(r) == len(m) for r in m)):
        raise _bad(arch, '"matrix" must be a square list of lists')
    if not all(v in (0, 1) and not isinstance(v, float) for r in m for v in r):
        raise _bad(arch, '"matrix" entries must be 0 or 1')
    if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
        raise _bad(arch, '"ops" must be a list of op names')
    return _check(np.array(m, dtype=np.int64).reshape(len(m), len(m)), tuple(ops), arch)


def _check(matrix: np.ndarray, ops: tuple[str, ...], arch: object) -> tuple[np.ndarray, tuple[str, ...]]:
    """Structural checks before pruning (shape, 0/1, upper-triangular, op names); the
    vertex and edge limits apply to the pruned cell, as in the official API."""
    v = matrix.shape[0]
    if len(ops) != v:
        raise _bad(arch, f"{len(ops)} ops for a {v}x{v} matrix")
    if v < 2:
        raise _bad(arch, "a cell needs at least an input and an output vertex")
    if not np.isin(matrix, (0, 1)).all():
        raise _bad(arch, "matrix entries must be 0 or 1")
    if np.tril(matrix).any():
        i, j = map(int, np.argwhere(np.tril(matrix))[0])
        raise _bad(arch, f"matrix is not upper-triangular (entry [{i}][{j}] is 1; only edges i->j with i<j)")
    unknown = [o for o in ops if o not in CODES]
    if unknown:
        raise _bad(arch, f"unknown op {unknown[0]!r}")
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        raise _bad(arch, "the first op must be 'input' and the last 'output'")
    inner = [o for o in ops[1:-1] if o in (INPUT, OUTPUT)]
    if inner:
        raise _bad(arch, f"interior vertex labelled {inner[0]!r}")
    return matrix, ops


def prune(matrix: np.ndarray, ops: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """Delete vertices not on an input->output path (official ``ModelSpec._prune``).

    Returns None when the output is not reachable from the input.
    """
    v = matrix.shape[0]
    fwd, stack = {0}, [0]
    while stack:
        s = stack.pop()
        for d in range(s + 1, v):
            if matrix[s, d] and d not in fwd:
                fwd.add(d)
                stack.append(d)
    bwd, stack = {v - 1}, [v - 1]
    while stack:
        d = stack.pop()
        for s in range(d):
            if matrix[s, d] and s not in bwd:
                bwd.add(s)
                stack.append(s)
    keep = sorted(fwd & bwd)
    if len(keep) < 2:
        return None
    return matrix[np.ix_(keep, keep)].copy(), tuple(ops[i] for i in keep)


def hash_module(matrix: np.ndarray, labels: list[int]) -> str:
    """The official isomorphism-invariant module hash (``graph_util.hash_module``).

    Each vertex starts from MD5 of ``str((out_degree, in_degree, label))``; then, as many
    rounds as vertices, MD5 of its sorted in-neighbour hashes, ``|``, sorted out-neighbour
    hashes, ``|``, own hash; the id is MD5 of ``str(sorted(hashes))``.
    """
    v = matrix.shape[0]
    ins = [int(x) for x in matrix.sum(axis=0)]
    outs = [int(x) for x in matrix.sum(axis=1)]
    h = [hashlib.md5(str((outs[i], ins[i], labels[i])).encode()).hexdigest() for i in range(v)]
    for _ in range(v):
        h = [hashlib.md5(("".join(sorted(h[w] for w in range(v) if matrix[w, i])) + "|"
                          + "".join(sorted(h[w] for w in range(v) if matrix[i, w])) + "|"
                          + h[i]).encode()).hexdigest() for i in range(v)]
    return hashlib.md5(str(sorted(h)).encode()).hexdigest()


def _labels(ops: tuple[str, ...]) -> list[int]:
    return [-1] + [OPS.index(o) for o in ops[1:-1]] + [-2]


def cell(arch: object) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """Validated, pruned (matrix, ops) of ``arch``; None for a cell with no input->output path."""
    parsed = _parse(arch)
    if isinstance(parsed, str):
        return _KNOWN[parsed]
    matrix, ops = parsed
    pruned = prune(matrix, ops)
    if pruned is None:
        return None
    pm, po = pruned
    if len(po) > MAX_VERTICES:
        raise _bad(arch, f"{len(po)} vertices after pruning, at most {MAX_VERTICES} allowed")
    if int(pm.sum()) > MAX_EDGES:
        raise _bad(arch, f"{int(pm.sum())} edges after pruning, at most {MAX_EDGES} allowed")
    return pm, po


def to_json(matrix: np.ndarray, ops: tuple[str, ...]) -> str:
    """Compact JSON form ``{"matrix":[[...]],"ops":[...]}``."""
    return json.dumps({"matrix": np.asarray(matrix).astype(int).tolist(), "ops": list(ops)},
                      separators=(",", ":"))


def canonical(arch: object) -> str:
    """Validate ``arch`` and return the official module hash of its pruned cell.

    A cell with no input->output path gets ``unreachable-<hash of the unpruned cell>``.
    """
    parsed = _parse(arch)
    if isinstance(parsed, str):
        return parsed
    c = cell(arch)
    if c is None:
        matrix, ops = parsed
        key = "unreachable-" + hash_module(matrix, _labels(ops))
        _KNOWN[key] = (matrix, ops)
        return key
    key = hash_module(c[0], _labels(c[1]))
    _KNOWN.setdefault(key, c)
    return key


def spec(arch: object) -> str:
    """Compact JSON of the pruned cell (of the unpruned cell when its output is unreachable)."""
    key = canonical(arch)
    return to_json(*_KNOWN[key])


def sample(n: int, seed: int) -> list[str]:
    """``n`` cells with distinct hashes, as ``spec()`` JSON, drawn with ``seed``.

    Uniform over valid *specs*, not over hashes: a 7x7 upper-triangular 0/1 matrix with
    each of the 21 edges present with probability 1/2 and each interior op uniform, kept
    when its pruned cell is valid (input->output path, <= 9 edges) and its hash is new.
    This is the official API's random search; uniform over the 423,624 hashes would need
    the enumerated list of hashes (the benchmark file), which a sampler cannot assume.
    """
    if n < 1:
        raise TrainfreeError(f"sample size must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    out: list[str] = []
    seen: set[str] = set()
    iu = np.triu_indices(MAX_VERTICES, 1)
    for _ in range(1000 * n + 10_000):
        m = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int64)
        m[iu] = rng.integers(0, 2, size=len(iu[0]))
        ops = (INPUT,) + tuple(OPS[k] for k in rng.integers(0, len(OPS), size=MAX_VERTICES - 2)) + (OUTPUT,)
        pruned = prune(m, ops)
        if pruned is None or int(pruned[0].sum()) > MAX_EDGES:
            continue
        key = canonical(to_json(m, ops))
        if key in seen:
            continue
        seen.add(key)
        out.append(spec(key))
        if len(out) == n:
            return out
    raise TrainfreeError(f"could not draw {n} distinct NB101 cells")


# --------------------------------------------------------------------------- network


class ConvBnRelu(nn.Sequential):
    """Conv(k, stride 1, 'same', no bias) -> BN (TF momentum 0.997, eps 1e-5) -> ReLU."""

    def __init__(self, c_in: int, c_out: int, k: int):
        super().__init__(
            nn.Conv2d(c_in, c_out, k, stride=1, padding=k // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=False),
        )


def compute_vertex_channels(c_in: int, c_out: int, matrix: np.ndarray) -> list[int]:
    """Channels of every vertex of a pruned cell (official ``compute_vertex_channels``).

    The output's ``c_out`` channels are split evenly over the vertices feeding it (the
    first ``c_out % fan_in`` of them get one more); any other interior vertex takes the
    max over the vertices it feeds.
    """
    v = matrix.shape[0]
    ch = [0] * v
    ch[0], ch[v - 1] = c_in, c_out
    if v == 2:
        return ch
    fan_in = int(matrix[1:, v - 1].sum())
    base, extra = divmod(c_out, fan_in)
    for i in range(1, v - 1):
        if matrix[i, v - 1]:
            ch[i] = base + (1 if extra > 0 else 0)
            extra -= 1 if extra > 0 else 0
    for i in range(v - 3, 0, -1):
        if not matrix[i, v - 1]:
            for d in range(i + 1, v - 1):
                if matrix[i, d]:
                    ch[i] = max(ch[i], ch[d])
    return ch


class Module101(nn.Module):
    """One NB101 module (the cell) on a pruned (matrix, ops) from ``c_in`` to ``c_out`` channels."""

    def __init__(self, matrix: np.ndarray, ops: tuple[str, ...], c_in: int, c_out: int):
        super().__init__()
        self.matrix = np.asarray(matrix)
        self.v = self.matrix.shape[0]
        self.ch = compute_vertex_channels(c_in, c_out, self.matrix)
        self.proj = nn.ModuleDict()
        self.ops = nn.ModuleDict()
        for t in range(1, self.v - 1):
            if self.matrix[0, t]:
                self.proj[str(t)] = ConvBnRelu(c_in, self.ch[t], 1)
            op = ops[t]
            self.ops[str(t)] = (ConvBnRelu(self.ch[t], self.ch[t], 3) if op == CONV3X3 else
                                ConvBnRelu(self.ch[t], self.ch[t], 1) if op == CONV1X1 else
                                MaxPool2d(3, stride=1, padding=1))
        if self.matrix[0, self.v - 1]:
            self.proj[str(self.v - 1)] = ConvBnRelu(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v, m = self.v, self.matrix
        nodes: list[torch.Tensor] = [x]
        concat: list[torch.Tensor] = []
        for t in range(1, v - 1):
            ins = [nodes[s][:, :self.ch[t]] for s in range(1, t) if m[s, t]]
            if m[0, t]:
                ins.append(self.proj[str(t)](x))
            total = ins[0]
            for y in ins[1:]:
                total = total + y
            nodes.append(self.ops[str(t)](total))
            if m[t, v - 1]:
                concat.append(nodes[t])
        if not concat:
            return self.proj[str(v - 1)](x)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if m[0, v - 1]:
            out = out + self.proj[str(v - 1)](x)
        return out


class NB101Network(nn.Module):
    """The NB101 network: returns logits of shape (batch, num_classes).

    For a cell with no input->output path (``self.unreachable``) the modules compute
    nothing: the stem sees ``x * nan`` and the logits are NaN, so every metric is NaN.
    """

    def __init__(self, arch: object, stem_channels: int = 128, num_stacks: int = 3,
                 num_modules_per_stack: int = 3, num_classes: int = 10):
        super().__init__()
        self.arch = canonical(arch)
        c = cell(self.arch) if not self.arch.startswith("unreachable-") else None
        self.unreachable = c is None
        self.stem = ConvBnRelu(3, stem_channels, 3)
        layers: list[nn.Module] = []
        c_prev = channels = stem_channels
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(MaxPool2d(2, stride=2))
                channels *= 2
            for _ in range(num_modules_per_stack):
                if not self.unreachable:
                    layers.append(Module101(c[0], c[1], c_prev, channels))
                    c_prev = channels
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.unreachable:
            x = x * float("nan")
        x = self.layers(self.stem(x))
        return self.classifier(torch.flatten(self.pool(x), 1))


def build_model(arch: object, num_classes: int = 10, stem_channels: int = 128, num_stacks: int = 3,
                num_modules_per_stack: int = 3) -> NB101Network:
    """Benchmark network for ``arch`` (any accepted form) with default PyTorch init."""
    return NB101Network(arch, stem_channels=stem_channels, num_stacks=num_stacks,
                        num_modules_per_stack=num_modules_per_stack, num_classes=num_classes)


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters (BN affine included), as the benchmark counts them."""
    return sum(p.numel() for p in model.parameters())
