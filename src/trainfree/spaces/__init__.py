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
"""

from __future__ import annotations

import importlib
from types import ModuleType

from trainfree.errors import TrainfreeError

_SPACES = ("nb201", "darts")


def get_space(name: str) -> ModuleType:
    """Return the module implementing search space ``name`` (e.g. ``"nb201"``)."""
    if name not in _SPACES:
        raise TrainfreeError(f"unknown search space {name!r}; choose one of: {', '.join(sorted(_SPACES))}")
    return importlib.import_module(f"trainfree.spaces.{name}")


def list_spaces() -> list[str]:
    return sorted(_SPACES)
