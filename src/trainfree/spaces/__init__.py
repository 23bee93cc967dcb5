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
    count_params(model) -> int       # the network's parameters as its benchmark counts them

Tables key archs by the canonical id (``arch_id``); the sample table also keeps ``spec``.

The NDS design spaces (``nds_DARTS``, ``nds_ResNeXt-A``, ... one per file of the NDS
release) are objects with the same names, built by ``trainfree.spaces.nds.space(name)``.

Every space is registered in :data:`SPACES` (a :class:`trainfree.registry.Registry`) by
name with a loader that returns its module or object, so listing the spaces imports none
of them; ``register_space`` adds one, and ``tests/test_space_contract.py`` runs every
registered space through the same checks.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
from types import ModuleType

from trainfree.registry import Registry
from trainfree.spaces import nds


def _choices(names: list[str]) -> str:
    """The spaces in words: the module spaces by name, the NDS spaces as one pattern."""
    own = [n for n in names if not n.startswith(nds.PREFIX)]
    return f"{', '.join(own)}, {nds.PREFIX}<release file> (e.g. {nds.PREFIX}DARTS)"


#: space name -> loader returning the object with the module contract above
SPACES: Registry[Callable[[], ModuleType]] = Registry("search space", choices=_choices)


def register_space(name: str, load: Callable[[], ModuleType], *, replace: bool = False) -> None:
    """Register search space ``name``; ``load()`` returns its module (or an object with the same
    names) and runs only when the space is asked for."""
    SPACES.register(name, load, replace=replace)


def get_space(name: str) -> ModuleType:
    """Return the module implementing search space ``name`` (e.g. ``"nb201"``, ``"nds_DARTS"``)."""
    return SPACES.get(name)()


def list_spaces() -> list[str]:
    """Every registered space, sorted (the module spaces, then the NDS spaces in release file order)."""
    return SPACES.names()


def space_choices() -> str:
    """The registered spaces in words, for error messages (the NDS spaces as one pattern)."""
    return SPACES.choices()


for _name in ("darts", "nb101", "nb201"):
    register_space(_name, partial(importlib.import_module, f"trainfree.spaces.{_name}"))
for _name in nds.SPACES:
    register_space(_name, partial(nds.space, _name))
