"""NDS design spaces: one space per file of the NDS release, named ``nds_<file stem>``.

The release (``data.zip`` of github.com/facebookresearch/nds) holds one JSON file per
sweep, e.g. ``DARTS.json``, ``ENAS_in.json``, ``PNAS_fix-w-d.json``, ``ResNeXt-A.json``;
each record's ``net`` entry is the network's own configuration. The space ``nds_DARTS``
reads ``DARTS.json`` and so on (``SPACES`` lists them). Every such space is an object
with the module contract of ``trainfree.spaces`` (``get_space("nds_DARTS")``):

- arch id: the record's ``net`` config as compact JSON with sorted keys, e.g.
  ``{"aux":false,"depth":8,"genotype":{...},"width":16}``; the ``_lr-wd`` sweeps vary the
  optimiser too, so their id is ``{"net":{...},"optim":{"base_lr":..,"wd":..}}``;
- ``spec(arch)`` is the id itself (it rebuilds the network in any process);
- ``sample`` is not available: NDS spaces are sampled from the release's records
  (``sample.pool: ground_truth`` in a study config);
- ``build_model(arch, C=None, N=None, num_classes=10)``: the record's own network
  (``trainfree.spaces.nds_nets``). ``C``/``N`` shrink it for quick runs: cell spaces take
  ``width = C`` and ``depth = 3 N + 2`` (N normal cells per stage); block spaces take
  ``stem_w = C`` and at most ``N`` blocks per stage. ``None`` keeps the record's value.

Cell sweeps: Amoeba, DARTS, ENAS, NASNet, PNAS; block sweeps: ResNet, ResNet-B,
ResNeXt-A, ResNeXt-B, Vanilla. ``_in`` sweeps are ImageNet networks (ImageNet stems).
Block records that name no stem get ``res_stem_cifar`` with 16 channels (CIFAR) or
``res_stem_in`` with 64 channels (``_in``): the release's records are read as they are,
and these defaults are the documented pycls CIFAR/ImageNet ResNet stems.
"""

from __future__ import annotations

import json
import types

from trainfree.errors import TrainfreeError

CELL_FAMILIES = ("Amoeba", "DARTS", "ENAS", "NASNet", "PNAS")
BLOCK_FAMILIES = ("ResNeXt-A", "ResNeXt-B", "ResNet", "ResNet-B", "Vanilla")
# Every sweep file of the NDS release (file stem), as the NDS notebooks load them.
FILES = (
    "Amoeba", "Amoeba_in", "DARTS", "DARTS_fix-w-d", "DARTS_in", "DARTS_lr-wd", "DARTS_lr-wd_in",
    "ENAS", "ENAS_fix-w-d", "ENAS_in", "NASNet", "NASNet_in", "PNAS", "PNAS_fix-w-d", "PNAS_in",
    "ResNeXt-A", "ResNeXt-A_in", "ResNeXt-B", "ResNeXt-B_in", "ResNet", "ResNet-B", "ResNet_lr-wd",
    "ResNet_lr-wd_in", "ResNet_reruns", "ResNet_rng1", "ResNet_rng2", "ResNet_rng3", "Vanilla",
    "Vanilla_lr-wd", "Vanilla_lr-wd_in", "Vanilla_reruns", "Vanilla_rng1", "Vanilla_rng2", "Vanilla_rng3",
)
PREFIX = "nds_"
SPACES = tuple(PREFIX + f for f in FILES)
GENOTYPE_KEYS = ("normal", "normal_concat", "reduce", "reduce_concat")
STEM_DEFAULTS = {False: ("res_stem_cifar", 16), True: ("res_stem_in", 64)}


def file_stem(space: str) -> str:
    """``"nds_DARTS_in"`` -> ``"DARTS_in"`` (the release file ``DARTS_in.json``)."""
    stem = space.removeprefix(PREFIX)
    if not space.startswith(PREFIX) or stem not in FILES:
        raise TrainfreeError(f"unknown NDS space {space!r}; choose one of: {', '.join(SPACES)}")
    return stem


def family(space: str) -> str:
    """Model family of an NDS space (``"nds_DARTS_lr-wd_in"`` -> ``"DARTS"``)."""
    return file_stem(space).split("_")[0]


def is_imagenet(space: str) -> bool:
    return file_stem(space).endswith("_in")


def varies_optim(space: str) -> bool:
    """The ``_lr-wd`` sweeps sample learning rate and weight decay with the network."""
    return "_lr-wd" in file_stem(space)


def _bad(space: str, arch: object, why: str) -> TrainfreeError:
    text = arch if isinstance(arch, str) else json.dumps(arch, default=str)
    if len(text) > 200:
        text = text[:200] + "..."
    return TrainfreeError(f"malformed {space} arch {text!r}: {why}; give a release record's 'net' config "
                          f"as JSON (cell: genotype/width/depth; block: block_type/ds/ws/ss)")


def _as_dict(space: str, arch: object) -> dict:
    if isinstance(arch, dict):
        return arch
    if isinstance(arch, str):
        try:
            out = json.loads(arch)
        except json.JSONDecodeError as e:
            raise _bad(space, arch, f"not JSON ({e.msg})") from None
        except RecursionError:
            raise _bad(space, arch, "not JSON (nested too deeply)") from None
        if isinstance(out, dict):
            return out
    raise _bad(space, arch, "not a JSON object")


def _check_net(space: str, net: dict) -> dict:
    """Validate a ``net`` config; return it with genotype pairs as ``[op, int]`` lists."""
    from trainfree.spaces.nds_nets import BLOCKS, CELL_OPS

    net = dict(net)
    if family(space) in CELL_FAMILIES:
        missing = [k for k in ("genotype", "width", "depth") if k not in net]
        if missing:
            raise _bad(space, net, f"missing {', '.join(missing)}")
        g = net["genotype"]
        if not isinstance(g, dict) or any(k not in g for k in GENOTYPE_KEYS):
            raise _bad(space, net, f"genotype needs {', '.join(GENOTYPE_KEYS)}")
        g = dict(g)
        for kind in ("normal", "reduce"):
            pairs = [[str(op), int(i)] for op, i in g[kind]]
            if not pairs or len(pairs) % 2:
                raise _bad(space, net, f"{kind} needs an even, non-zero number of [op, input] pairs")
            for step, (op, i) in enumerate(pairs):
                if op not in CELL_OPS:
                    raise _bad(space, net, f"unknown op {op!r}; known: {', '.join(sorted(CELL_OPS))}")
                if not 0 <= i < 2 + step // 2:
                    raise _bad(space, net, f"{kind} pair {step} reads state {i}, not yet computed")
            concat = [int(i) for i in g[f"{kind}_concat"]]
            if not concat or any(not 0 <= i < 2 + len(pairs) // 2 for i in concat):
                raise _bad(space, net, f"{kind}_concat {concat} names states outside 0..{1 + len(pairs) // 2}")
            g[kind], g[f"{kind}_concat"] = pairs, concat
        net["genotype"] = g
        return net
    missing = [k for k in ("block_type", "ds", "ws", "ss") if k not in net]
    if missing:
        raise _bad(space, net, f"missing {', '.join(missing)}")
    if net["block_type"] not in BLOCKS:
        raise _bad(space, net, f"unknown block_type {net['block_type']!r}; known: {', '.join(BLOCKS)}")
    if not len(net["ds"]) == len(net["ws"]) == len(net["ss"]):
        raise _bad(space, net, "ds, ws and ss need one entry per stage")
    return net


def _dump(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def canonical_in(space: str, arch: object) -> str:
    """Canonical id of ``arch`` (a net config, ``{"net":..., "optim":...}`` or a whole
    release record, as a dict or JSON) in NDS space ``space``."""
    d = _as_dict(space, arch)
    net = _check_net(space, d["net"] if "net" in d else d)
    if not varies_optim(space):
        return _dump(net)
    optim = d.get("optim")
    if not isinstance(optim, dict) or any(k not in optim for k in ("base_lr", "wd")):
        raise _bad(space, arch, "an _lr-wd sweep's arch needs optim.base_lr and optim.wd beside net")
    return _dump({"net": net, "optim": {"base_lr": float(optim["base_lr"]), "wd": float(optim["wd"])}})


def net_of(space: str, arch: object) -> dict:
    """The validated ``net`` config inside any accepted form of ``arch``."""
    d = _as_dict(space, arch)
    return _check_net(space, d["net"] if "net" in d else d)


def build_in(space: str, arch: object, C: int | None = None, N: int | None = None, num_classes: int = 10):
    """The network of ``arch`` in NDS space ``space`` (train mode); see the module docstring."""
    from trainfree.spaces.nds_nets import BlockNetwork, CellNetwork

    net = net_of(space, arch)
    imagenet = is_imagenet(space)
    if family(space) in CELL_FAMILIES:
        width = int(C) if C is not None else int(net["width"])
        depth = 3 * int(N) + 2 if N is not None else int(net["depth"])
        return CellNetwork(net["genotype"], width, depth, aux=bool(net.get("aux", False)), imagenet=imagenet,
                           num_classes=num_classes)
    ds = [int(d) for d in net["ds"]]
    if N is not None:
        ds = [min(d, int(N)) for d in ds]
    n = len(ds)
    bms = net.get("bms", net.get("bot_muls")) or [1.0] * n
    if "gws" in net and net["gws"]:
        groups = [max(1, int(round(w * b)) // int(gw)) for w, b, gw in zip(net["ws"], bms, net["gws"])]
    else:
        groups = [int(g) for g in (net.get("num_gs") or [1] * n)]
    stem_type, stem_w = STEM_DEFAULTS[imagenet]
    stem_type = net.get("stem_type", stem_type)
    stem_w = int(C) if C is not None else int(net.get("stem_w", stem_w))
    return BlockNetwork(net["block_type"], ds, [int(w) for w in net["ws"]], [int(s) for s in net["ss"]],
                        [float(b) for b in bms], groups, stem_type, stem_w, num_classes=num_classes)


def count_params(model) -> int:
    """Every parameter of ``model`` (conv, BN affine, linear, the auxiliary head where ``aux``),
    as :func:`trainfree.benchmarks.nds.params_check` compares them with the release's ``params``."""
    return sum(p.numel() for p in model.parameters())


def space(name: str) -> types.ModuleType:
    """The NDS space ``name`` as an object with the ``trainfree.spaces`` module contract."""
    file_stem(name)
    mod = types.ModuleType(f"trainfree.spaces.{name}", f"NDS design space of the release file {file_stem(name)}.json")
    mod.NAME = name
    mod.MODEL_DEFAULTS = {"C": None, "N": None}

    def canonical(arch: object) -> str:
        return canonical_in(name, arch)

    def sample(n: int, seed: int) -> list[str]:
        raise TrainfreeError(
            f"{name} is sampled from the NDS release's records, not generated: set sample.pool: ground_truth "
            f"and ground_truth.source to the folder holding {file_stem(name)}.json")

    def build_model(arch: object, C: int | None = None, N: int | None = None, num_classes: int = 10):
        return build_in(name, arch, C=C, N=N, num_classes=num_classes)

    mod.canonical = canonical
    mod.spec = canonical
    mod.sample = sample
    mod.build_model = build_model
    mod.count_params = count_params
    return mod
