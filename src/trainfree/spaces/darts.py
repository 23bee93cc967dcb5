"""DARTS search space: genotype codec (three written forms), sampler and ``NetworkCIFAR``.

**Genotype.** A normal and a reduction cell, each with 4 intermediate nodes 2..5; node
k sums two ``(op, input)`` edges with input in 0..k-1 (0, 1 = the outputs of the two
previous cells, 2.. = earlier nodes of the cell). The cell output concatenates the nodes
in ``normal_concat`` / ``reduce_concat`` (a set of nodes 2..5; ``[2, 3, 4, 5]`` in the
space proper). Ops (``OPS``, DARTS's ``PRIMITIVES`` order): ``none, max_pool_3x3,
avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5``.

**Accepted forms** (``parse``), all read without ``eval``:

- the DARTS string ``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4,
  5], reduce=[...], reduce_concat=[2, 3, 4, 5])``, concat also as ``range(2, 6)`` (as the
  official ``genotypes.py``/``model_search.py`` write it), positional fields too. The SWAP
  CSV form is this string, with ``none`` among the ops;
- NASLib's compact form (the NAS-Bench-Suite-Zero NB301 keys) ``[[(input, op), ...8],
  [(input, op), ...8]]`` (normal, reduce), ``op`` an index into ``COMPACT_OPS`` (NASLib's
  ``convert_genotype_to_compact`` order, no ``none``), pairs in genotype order, concat
  ``[2, 3, 4, 5]``.

``to_compact`` writes the compact form back (error if the genotype uses ``none`` or
another concat); ``format_genotype`` writes the DARTS string.

**Canonical id.** The DARTS string of the genotype with the two edges of every node
sorted by (input, op position in ``OPS``) and each concat sorted. The network adds the
two edges of a node, and the following cells' 1x1 preprocessing absorbs the channel order
of the concat, so these rewritings compute the same function class; they differ only in
the order parameters are created (hence in a default init's draw). The network is always
built from the canonical id, so one id means one network and one init per seed. This is
exactly the identification NAS-Bench-301 makes: its ConfigSpace encodes a node by the
*set* of its inputs (``inputs_node_normal_3 = "0_2"``) and one edge op per (node, input).
Other isomorphisms are kept apart on purpose: relabelling intermediate nodes (e.g.
swapping two nodes that do not feed each other) and ``none`` edges from different
inputs give functionally equivalent cells, but NB301 and NASLib key them as different
archs, so ground truth stays one row per benchmark arch. Edges from the same input twice
(present in the SWAP archs) are accepted and built as the official code builds them;
the sampler never draws them.

**Sampler.** ``sample(n, seed)``: per cell independently (normal, reduce), per node k
two *distinct* inputs drawn uniformly from 0..k-1 and two ops drawn independently and
uniformly from the 7 non-``none`` ops — the distribution of NB301's ConfigSpace and of
NASLib's ``sample_random_architecture``; uniform over canonical ids. Without replacement
(rejection of repeated ids).

**Network** (``NetworkCIFAR``), as in the official ``cnn/model.py`` + ``operations.py``
of DARTS (eval network): stem conv3x3 3 -> 3C + BN; ``layers`` cells with reduction
cells (doubled channels, stride 2 on the edges from inputs 0 and 1) at ``layers // 3``
and ``2 * layers // 3``; preprocessing ReLUConvBN 1x1 of both inputs, FactorizedReduce of
input 0 after a reduction; every op including ``none`` (zeros of the right shape, kept in
the autograd graph) and the stride-2 variants (``skip_connect`` -> FactorizedReduce);
BN affine everywhere (``affine=True`` as in ``model.py``); global average pool and a
linear classifier. Two options rebuild the NB301 graph of NASLib (2022), the network on
which NAS-Bench-Suite-Zero computed its NB301 proxies: ``edge_affine=False`` drops the
affine weights of the BatchNorms inside cell edges (sep/dil convs, the stride-2 skip), and
``pool_bn=True`` puts a BatchNorm without affine weights after each pooling edge. Stem,
preprocessing, cell wiring, concatenation and classifier are the same in both. ``drop_path_prob`` is 0 (off) unless a training loop sets it; the
auxiliary head (after cell ``2 * layers // 3``, official ``AuxiliaryHeadCIFAR``) exists
only with ``auxiliary=True``; in train mode its logits are kept in ``model.logits_aux``
and ``forward`` still returns the main logits. All ReLUs are out-of-place, so forward
hooks see the true pre-activation input.

**Parameter counts.** ``count_params(model)`` counts every parameter except the
auxiliary head's, as the official ``utils.count_parameters_in_MB`` does (it drops names
containing ``auxiliary``); DARTS-V2 at C=36, 20 layers gives 3,349,342 = the published
3.3 M. NAS-Bench-301 trained its archs with C=32, 8 layers, auxiliary head, drop-path 0.2
(``init_channels``, ``layers``, ``auxiliary`` in its data-generation config). The
``params`` that NAS-Bench-Suite-Zero publishes for NB301 archs were counted on NASLib's
NB301 graph as it was in 2022 (channels 32/64/128 = C=32, 8 cells, no auxiliary head)
whose edge ops use BatchNorm *without* affine weights: ``nb301_param_count(arch)`` =
``count_params`` of ``build_model(arch, C=32, layers=8, edge_affine=False)``, and it
equals their ``params`` x 1e6 exactly for all 362 shared archs (the official count with
affine edge BN is 0.5-1.2 % higher).
"""

from __future__ import annotations

import ast
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from trainfree.errors import TrainfreeError
from trainfree.spaces.pooling import AvgPool2d, MaxPool2d

NAME = "darts"
OPS: tuple[str, ...] = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
                        "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
#: the ops the space samples from (NB301, NASLib): every op but ``none``
SAMPLE_OPS: tuple[str, ...] = OPS[1:]
#: NASLib's op order in the compact form (``convert_genotype_to_compact``)
COMPACT_OPS: tuple[str, ...] = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
                                "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
N_NODES = 4
CONCAT: tuple[int, ...] = (2, 3, 4, 5)
FIELDS: tuple[str, ...] = ("normal", "normal_concat", "reduce", "reduce_concat")
MODEL_DEFAULTS: dict = {"C": 16, "layers": 8, "auxiliary": False, "edge_affine": True, "pool_bn": False}
#: NASLib's NB301 graph, on which NAS-Bench-Suite-Zero computed its NB301 proxies
NASLIB_NB301_KWARGS: dict = {"C": 32, "layers": 8, "auxiliary": False, "edge_affine": False, "pool_bn": True}
#: NAS-Bench-301's training network (the ``params`` of Suite-Zero count it without the auxiliary head)
NB301_KWARGS: dict = {"C": 32, "layers": 8, "auxiliary": True}
DARTS_V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
            "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
            "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
            "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
            "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
_FORM = ("a DARTS string Genotype(normal=[(op, input) x8], normal_concat=[2, 3, 4, 5], "
         "reduce=[(op, input) x8], reduce_concat=[2, 3, 4, 5]) or NASLib's compact form "
         "[[(input, op_index) x8], [(input, op_index) x8]]")

Edge = tuple[str, int]


class Genotype(NamedTuple):
    """A DARTS genotype: 8 ``(op, input)`` edges per cell (2 per node 2..5) and the concats."""

    normal: tuple[Edge, ...]
    normal_concat: tuple[int, ...]
    reduce: tuple[Edge, ...]
    reduce_concat: tuple[int, ...]


def _bad(arch: object, why: str) -> TrainfreeError:
    text = repr(arch)
    if len(text) > 600:
        text = text[:600] + "...'"
    return TrainfreeError(f"malformed DARTS arch {text}: {why}; expected {_FORM}")


# --------------------------------------------------------------------------- parsing


def _check_cell(arch: object, name: str, edges: object) -> tuple[Edge, ...]:
    if not isinstance(edges, (list, tuple)):
        raise _bad(arch, f"{name} must be a list of (op, input) pairs, got {edges!r}")
    if len(edges) != 2 * N_NODES:
        raise _bad(arch, f"{name} has {len(edges)} (op, input) pairs; the space has {N_NODES} "
                         f"intermediate nodes with 2 inputs each ({2 * N_NODES} pairs)")
    out = []
    for e, pair in enumerate(edges):
        node = 2 + e // 2
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], str)
                or not isinstance(pair[1], int) or isinstance(pair[1], bool)):
            raise _bad(arch, f"{name} pair {e} {pair!r} must be (op name, input index)")
        op, i = pair
        if op not in OPS:
            raise _bad(arch, f"unknown op {op!r} in {name}; choose one of {', '.join(OPS)}")
        if not 0 <= i < node:
            raise _bad(arch, f"{name} node {node} takes input {i}, out of range: node {node} may "
                             f"take inputs 0..{node - 1} (0, 1: previous cells; 2..: earlier nodes)")
        out.append((op, i))
    return tuple(out)


def _check_concat(arch: object, name: str, concat: object) -> tuple[int, ...]:
    if (not isinstance(concat, (list, tuple, range)) or not concat
            or any(not isinstance(k, int) or isinstance(k, bool) for k in concat)):
        raise _bad(arch, f"{name} {concat!r} must be a non-empty list of node indices in 2..5")
    if any(k not in CONCAT for k in concat) or len(set(concat)) != len(concat):
        raise _bad(arch, f"bad {name} {list(concat)!r}: entries must be distinct intermediate "
                         f"nodes 2..5 (the space uses [2, 3, 4, 5])")
    return tuple(concat)


def _literal(arch: str, node: ast.expr, field: str) -> object:
    """A literal field value; ``range(a, b[, s])`` with literal ints becomes a list."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
            and not node.keywords):
        try:
            args = [ast.literal_eval(a) for a in node.args]
            return list(range(*args))
        except (ValueError, TypeError) as e:
            raise _bad(arch, f"{field} = {ast.unparse(node)} is not a valid range") from e
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as e:
        raise _bad(arch, f"{field} = {ast.unparse(node)} is not a literal list") from e


def _parse_genotype_string(arch: str, text: str) -> Genotype:
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError as e:
        raise _bad(arch, f"not a valid Genotype(...) expression ({e.msg} at column {e.offset})") from e
    if not (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
            and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == "Genotype"):
        raise _bad(arch, "not a single Genotype(...) call")
    if len(node.args) > len(FIELDS):
        raise _bad(arch, f"Genotype takes {len(FIELDS)} fields, got {len(node.args)} positional")
    values: dict[str, object] = {}
    for field, a in zip(FIELDS, node.args):
        values[field] = _literal(arch, a, field)
    for kw in node.keywords:
        if kw.arg not in FIELDS:
            raise _bad(arch, f"unknown Genotype field {kw.arg!r}; fields are {', '.join(FIELDS)}")
        if kw.arg in values:
            raise _bad(arch, f"Genotype field {kw.arg!r} given twice")
        values[kw.arg] = _literal(arch, kw.value, kw.arg)
    missing = [f for f in FIELDS if f not in values]
    if missing:
        raise _bad(arch, f"Genotype misses field(s) {', '.join(missing)}")
    return Genotype(_check_cell(arch, "normal", values["normal"]),
                    _check_concat(arch, "normal_concat", values["normal_concat"]),
                    _check_cell(arch, "reduce", values["reduce"]),
                    _check_concat(arch, "reduce_concat", values["reduce_concat"]))


def from_compact(arch: object, compact: object = None) -> Genotype:
    """NASLib's compact form (a string or nested sequences) -> Genotype (concat [2, 3, 4, 5])."""
    compact = arch if compact is None else compact
    if not isinstance(compact, (list, tuple)) or len(compact) != 2:
        raise _bad(arch, "the compact form needs 2 cells (normal, reduce) of 8 (input, op_index) pairs")
    cells = []
    for name, cell in zip(("normal", "reduce"), compact):
        if not isinstance(cell, (list, tuple)) or len(cell) != 2 * N_NODES:
            n = len(cell) if isinstance(cell, (list, tuple)) else "no"
            raise _bad(arch, f"compact {name} cell has {n} (input, op_index) pairs; the space has "
                             f"{N_NODES} intermediate nodes with 2 inputs each ({2 * N_NODES} pairs)")
        edges = []
        for e, pair in enumerate(cell):
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or any(not isinstance(v, int) or isinstance(v, bool) for v in pair)):
                raise _bad(arch, f"compact {name} pair {e} {pair!r} must be (input index, op index)")
            i, k = pair
            if not 0 <= k < len(COMPACT_OPS):
                raise _bad(arch, f"unknown op index {k} in compact {name}; NASLib's indices are "
                                 f"0..{len(COMPACT_OPS) - 1} = {', '.join(COMPACT_OPS)}")
            edges.append((COMPACT_OPS[k], i))
        cells.append(_check_cell(arch, name, edges))
    return Genotype(cells[0], CONCAT, cells[1], CONCAT)


def parse(arch: object) -> Genotype:
    """Any accepted form -> validated ``Genotype`` (edge order as written)."""
    if isinstance(arch, Genotype):
        return Genotype(_check_cell(arch, "normal", arch.normal),
                        _check_concat(arch, "normal_concat", arch.normal_concat),
                        _check_cell(arch, "reduce", arch.reduce),
                        _check_concat(arch, "reduce_concat", arch.reduce_concat))
    if isinstance(arch, (list, tuple)):
        return from_compact(arch)
    if not isinstance(arch, str):
        raise _bad(arch, f"not a string but {type(arch).__name__}")
    text = arch.strip()
    if text.startswith("Genotype") or "Genotype(" in text:
        return _parse_genotype_string(arch, text)
    if text.startswith(("[", "(")):
        try:
            value = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as e:
            raise _bad(arch, "not a literal nested list of (input, op_index) pairs") from e
        return from_compact(arch, value)
    raise _bad(arch, "neither a Genotype(...) string nor a compact [[...], [...]] list")


def normalise(g: Genotype) -> Genotype:
    """Sort the two edges of each node by (input, op position in OPS) and each concat."""
    def cell(edges: tuple[Edge, ...]) -> tuple[Edge, ...]:
        out: list[Edge] = []
        for k in range(N_NODES):
            out.extend(sorted(edges[2 * k:2 * k + 2], key=lambda e: (e[1], OPS.index(e[0]))))
        return tuple(out)

    return Genotype(cell(g.normal), tuple(sorted(g.normal_concat)), cell(g.reduce),
                    tuple(sorted(g.reduce_concat)))


def format_genotype(g: Genotype) -> str:
    """Genotype -> the DARTS string, as ``str()`` of DARTS's namedtuple prints it."""
    def cell(edges: tuple[Edge, ...]) -> str:
        return "[" + ", ".join(f"({op!r}, {i})" for op, i in edges) + "]"

    def concat(c: tuple[int, ...]) -> str:
        return "[" + ", ".join(str(k) for k in c) + "]"

    return (f"Genotype(normal={cell(g.normal)}, normal_concat={concat(g.normal_concat)}, "
            f"reduce={cell(g.reduce)}, reduce_concat={concat(g.reduce_concat)})")


def to_compact(arch: object) -> str:
    """Any accepted form -> NASLib's compact string (edge order kept, not normalised)."""
    g = parse(arch)
    if any(op == "none" for op, _ in g.normal + g.reduce):
        raise TrainfreeError(f"{format_genotype(g)} uses 'none', which NASLib's compact form cannot "
                             f"express; keep it as a Genotype string")
    if g.normal_concat != CONCAT or g.reduce_concat != CONCAT:
        raise TrainfreeError(f"{format_genotype(g)}: the compact form implies concat [2, 3, 4, 5]; "
                             f"keep it as a Genotype string")
    cells = ["[" + ", ".join(f"({i}, {COMPACT_OPS.index(op)})" for op, i in edges) + "]"
             for edges in (g.normal, g.reduce)]
    return "[" + ", ".join(cells) + "]"


def canonical(arch: object) -> str:
    """Validate ``arch`` (any accepted form) and return its canonical DARTS string."""
    return format_genotype(normalise(parse(arch)))


def spec(arch: object) -> str:
    """The rebuildable form of ``arch``: for DARTS the canonical string itself."""
    return canonical(arch)


def sample(n: int, seed: int) -> list[str]:
    """``n`` distinct canonical genotypes drawn with ``seed`` (distribution: module docstring)."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise TrainfreeError(f"sample size must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    out: list[str] = []

    def cell() -> tuple[Edge, ...]:
        edges: list[Edge] = []
        for node in range(2, 2 + N_NODES):
            inputs = rng.choice(node, size=2, replace=False)
            ops = rng.integers(0, len(SAMPLE_OPS), size=2)
            edges.extend((SAMPLE_OPS[o], int(i)) for i, o in zip(inputs, ops))
        return tuple(edges)

    while len(out) < n:
        normal = cell()
        arch = format_genotype(normalise(Genotype(normal, CONCAT, cell(), CONCAT)))
        if arch not in seen:
            seen.add(arch)
            out.append(arch)
    return out


# --------------------------------------------------------------------------- operations


class _SeqOp(nn.Module):
    """An op whose layers are the Sequential ``self.op`` (the official module layout and names)."""

    op: nn.Sequential

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class ReLUConvBN(_SeqOp):
    """ReLU -> Conv(k, stride, no bias) -> BN (preprocessing of a cell's inputs)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, padding: int):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=False),
                                nn.BatchNorm2d(c_out))


class DilConv(_SeqOp):
    """ReLU -> depthwise dilated conv -> 1x1 conv -> BN (``dil_conv_kxk``, dilation 2)."""

    def __init__(self, c: int, k: int, stride: int, padding: int, dilation: int, affine: bool = True):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(c, c, k, stride=stride, padding=padding, dilation=dilation,
                                          groups=c, bias=False),
                                nn.Conv2d(c, c, 1, bias=False),
                                nn.BatchNorm2d(c, affine=affine))


class SepConv(_SeqOp):
    """Two stacked (ReLU, depthwise kxk, 1x1, BN) blocks, stride on the first (``sep_conv_kxk``)."""

    def __init__(self, c: int, k: int, stride: int, padding: int, affine: bool = True):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(c, c, k, stride=stride, padding=padding, groups=c, bias=False),
                                nn.Conv2d(c, c, 1, bias=False),
                                nn.BatchNorm2d(c, affine=affine),
                                nn.ReLU(inplace=False),
                                nn.Conv2d(c, c, k, stride=1, padding=padding, groups=c, bias=False),
                                nn.Conv2d(c, c, 1, bias=False),
                                nn.BatchNorm2d(c, affine=affine))


class Zero(nn.Module):
    """``none``: zeros of the output shape (subsampled with stride 2), kept in the autograd graph."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 stride-2 convs on pixel grids offset by one, concatenated, BN: halves H, W."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True):
        super().__init__()
        if c_out % 2:
            raise TrainfreeError(f"FactorizedReduce needs an even number of output channels, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def make_op(op: str, c: int, stride: int, affine: bool = True, pool_bn: bool = False) -> nn.Module:
    """One cell edge on ``c`` channels with ``stride`` 1 or 2 (``affine``: the edge's BNs have
    affine weights; ``pool_bn``: pooling is followed by a BN without them, as in NASLib)."""
    if op == "none":
        return Zero(stride)
    if op in ("max_pool_3x3", "avg_pool_3x3"):
        pool = (MaxPool2d(3, stride=stride, padding=1) if op == "max_pool_3x3"
                else AvgPool2d(3, stride=stride, padding=1, count_include_pad=False))
        return nn.Sequential(pool, nn.BatchNorm2d(c, affine=False)) if pool_bn else pool
    if op == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, affine)
    if op == "sep_conv_3x3":
        return SepConv(c, 3, stride, 1, affine)
    if op == "sep_conv_5x5":
        return SepConv(c, 5, stride, 2, affine)
    if op == "dil_conv_3x3":
        return DilConv(c, 3, stride, 2, 2, affine)
    if op == "dil_conv_5x5":
        return DilConv(c, 5, stride, 4, 2, affine)
    raise TrainfreeError(f"unknown DARTS op {op!r}; choose one of {', '.join(OPS)}")


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples with probability ``drop_prob``, scale the rest by 1/(1-p) (out of place)."""
    keep = 1.0 - drop_prob
    mask = torch.empty(x.size(0), 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


# --------------------------------------------------------------------------- network


class Cell(nn.Module):
    """One DARTS cell: (s0, s1) of shapes (B, c_pp, H', W'), (B, c_prev, H, W) ->
    (B, len(concat) * c, H / (2 if reduction else 1), ...)."""

    def __init__(self, g: Genotype, c_pp: int, c_prev: int, c: int, reduction: bool, reduction_prev: bool,
                 edge_affine: bool = True, pool_bn: bool = False):
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0)
        edges = g.reduce if reduction else g.normal
        self.concat = tuple(g.reduce_concat if reduction else g.normal_concat)
        self.multiplier = len(self.concat)
        self.indices = tuple(i for _, i in edges)
        self._ops = nn.ModuleList(make_op(op, c, 2 if reduction and i < 2 else 1, edge_affine, pool_bn)
                                  for op, i in edges)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(len(self._ops) // 2):
            hs = []
            for e in (2 * k, 2 * k + 1):
                op = self._ops[e]
                h = op(states[self.indices[e]])
                if self.training and drop_prob > 0.0 and not isinstance(op, nn.Identity):
                    h = drop_path(h, drop_prob)
                hs.append(h)
            states.append(hs[0] + hs[1])
        return torch.cat([states[i] for i in self.concat], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    """The official auxiliary classifier for an 8x8 input of ``c`` channels."""

    def __init__(self, c: int, num_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class NetworkCIFAR(nn.Module):
    """DARTS's CIFAR network: (B, 3, H, W) -> logits (B, num_classes)."""

    def __init__(self, arch: object, C: int = 16, layers: int = 8, auxiliary: bool = False,
                 num_classes: int = 10, edge_affine: bool = True, pool_bn: bool = False):
        super().__init__()
        if not (isinstance(C, int) and C >= 1 and isinstance(layers, int) and layers >= 1):
            raise TrainfreeError(f"DARTS network needs integers C >= 1 and layers >= 1, got C={C!r}, "
                                 f"layers={layers!r}")
        g = normalise(parse(arch))
        self.arch = format_genotype(g)
        self._layers = layers
        self._auxiliary = bool(auxiliary)
        self.drop_path_prob = 0.0
        self.logits_aux: torch.Tensor | None = None
        c_curr = 3 * C
        self.stem = nn.Sequential(nn.Conv2d(3, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
        c_pp, c_prev, c_curr = c_curr, c_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        c_aux = c_prev
        self._aux_at = 2 * layers // 3
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_curr *= 2
            cell = Cell(g, c_pp, c_prev, c_curr, reduction, reduction_prev, edge_affine, pool_bn)
            reduction_prev = reduction
            self.cells.append(cell)
            c_pp, c_prev = c_prev, cell.multiplier * c_curr
            if i == self._aux_at:
                c_aux = c_prev
        if self._auxiliary:
            self.auxiliary_head = AuxiliaryHeadCIFAR(c_aux, num_classes)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.logits_aux = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self._aux_at and self._auxiliary and self.training:
                self.logits_aux = self.auxiliary_head(s1)
        return self.classifier(torch.flatten(self.global_pooling(s1), 1))


def build_model(arch: object, num_classes: int = 10, **kwargs) -> NetworkCIFAR:
    """DARTS ``NetworkCIFAR`` for ``arch`` (any accepted form) with default PyTorch init.

    Keyword options and defaults: ``MODEL_DEFAULTS`` (C=16, layers=8, auxiliary=False,
    edge_affine=True, pool_bn=False); DARTS's own evaluation network is C=36, layers=20,
    NB301's C=32, layers=8, auxiliary; NASLib's NB301 graph ``NASLIB_NB301_KWARGS``.
    """
    unknown = sorted(set(kwargs) - set(MODEL_DEFAULTS))
    if unknown:
        raise TrainfreeError(f"unknown DARTS model option(s) {', '.join(unknown)}; the options are "
                             f"{', '.join(MODEL_DEFAULTS)}")
    return NetworkCIFAR(arch, num_classes=num_classes, **{**MODEL_DEFAULTS, **kwargs})


def count_params(model: nn.Module, include_auxiliary: bool = False) -> int:
    """Parameters of ``model`` (BN affine included); the auxiliary head only if asked, as
    DARTS's ``count_parameters_in_MB`` leaves it out."""
    return sum(p.numel() for name, p in model.named_parameters()
               if include_auxiliary or "auxiliary" not in name)


def nb301_param_count(arch: object) -> int:
    """Parameters of ``arch`` as NAS-Bench-Suite-Zero counts NB301's ``params`` (x 1e6).

    The C=32, 8-layer network without auxiliary head and without the affine weights of
    the BatchNorms inside cell edges (NASLib's edge ops use ``affine=False``).
    """
    return count_params(build_model(arch, **NASLIB_NB301_KWARGS))
