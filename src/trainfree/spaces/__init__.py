"""Search spaces: arch codec (canonical id <-> structure), sampler, model builder.

Every space is one module ``trainfree.spaces.<name>`` exposing the same names, so the
engine, analysis, render and workflow never test a space's name::

    NAME: str                        # the space's name, e.g. "nb201"
    MODEL_DEFAULTS: dict             # keyword arguments of build_model and their defaults
    canonical(arch) -> str           # validate any accepted form, return the canonical id;
                                     # errors are TrainfreeError quoting the input
    spec(arch) -> str                # a string form that canonical() and build_model() accept
                                     # and that rebuilds the arch in another process (for
                                     # NB201 and DARTS it is the canonical id itself; for
                                     # NB101, whose id is a one-way hash, it is the cell)
    sample(n, seed) -> list[str]     # seeded uniform sample without replacement, as spec()s
    build_model(arch, num_classes=10, **MODEL_DEFAULTS) -> torch.nn.Module
                                     # arch in any accepted form; train mode, default init

Tables key archs by the canonical id (``arch_id``); the sample table also keeps ``spec``.

The NDS design spaces (``nds_DARTS``, ``nds_ResNeXt-A``, ... one per file of the NDS
release) are objects with the same names, built by ``trainfree.spaces.nds.space(name)``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from trainfree.errors import TrainfreeError

_SPACES = ("darts", "nb101", "nb201")


def get_space(name: str) -> ModuleType:
    """Return the module implementing search space ``name`` (e.g. ``"nb201"``, ``"nds_DARTS"``)."""
    from trainfree.spaces import nds

    if name in nds.SPACES:
        return nds.space(name)
    if name not in _SPACES:
        raise TrainfreeError(f"unknown search space {name!r}; choose one of: {space_choices()}")
    return importlib.import_module(f"trainfree.spaces.{name}")


def list_spaces() -> list[str]:
    """Every registered space: the module spaces, then the NDS spaces (release file order)."""
    from trainfree.spaces import nds

    return sorted(_SPACES) + list(nds.SPACES)


def space_choices() -> str:
    """The registered spaces in words, for error messages (the NDS spaces as one pattern)."""
    from trainfree.spaces import nds

    return f"{', '.join(sorted(_SPACES))}, {nds.PREFIX}<release file> (e.g. {nds.PREFIX}DARTS)"
