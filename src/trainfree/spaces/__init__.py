"""Search spaces: arch codec (canonical id <-> structure), sampler, model builder.

Every space module exposes the same functions::

    canonical(arch_id) -> str        # validate and normalise, error quotes the input
    sample(n, seed) -> list[str]     # seeded uniform sample of canonical ids
    build_model(arch_id, **kw) -> torch.nn.Module
"""

from __future__ import annotations

from types import ModuleType

from trainfree.errors import TrainfreeError

_SPACES = ("nb201",)


def get_space(name: str) -> ModuleType:
    """Return the module implementing search space ``name`` (e.g. ``"nb201"``)."""
    if name == "nb201":
        from trainfree.spaces import nb201

        return nb201
    raise TrainfreeError(f"unknown search space {name!r}; choose one of: {', '.join(_SPACES)}")


def list_spaces() -> list[str]:
    return sorted(_SPACES)
