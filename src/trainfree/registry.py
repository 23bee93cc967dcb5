"""One registry for every kind of plug-in: metrics, search spaces, ground-truth readers, assets.

A :class:`Registry` maps unique names to the entries of one kind::

    METRICS.register("naswot", metric)   # a taken name with another entry is an error
    METRICS.get("naswot")                # an unknown name: one-line TrainfreeError naming the known
    METRICS.names()                      # sorted

Each kind keeps its registry in its own package (``metrics.registry.METRICS``,
``spaces.SPACES``, ``benchmarks.READERS``, ``data.fetch.ASSETS``) with a ``register_<kind>``
function (for metrics a decorator) and ``get_<kind>`` / ``list_<kind>s`` beside it. Two
options serve the kinds whose entries are costly or many: ``load`` fills the registry on
first use (the metric families import torch, so they load only when a metric is asked
for), and ``choices`` writes the known names for error messages (the 34 NDS spaces as one
pattern).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from trainfree.errors import TrainfreeError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one plug-in kind (``kind`` is its name in messages, e.g. ``"metric"``)."""

    def __init__(self, kind: str, *, load: Callable[[], None] | None = None,
                 choices: Callable[[list[str]], str] | None = None, hint: str = "") -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._load = load
        self._choices = choices
        self._hint = hint

    def register(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Add ``entry`` under ``name``; a taken name is an error unless the entry is the same or
        ``replace`` is set. Returns ``entry``."""
        if not isinstance(name, str) or not name.strip():
            raise TrainfreeError(f"{self.kind} name must be a non-empty string, got {name!r}")
        old = self._entries.get(name)
        if old is not None and not replace and old != entry:
            raise TrainfreeError(f"{self.kind} {name!r} is already registered{_origin(old)}; "
                                 f"choose another name or replace it explicitly")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> T:
        """Remove and return the entry ``name`` (unknown names are the error of :meth:`get`)."""
        entry = self.get(name)
        del self._entries[name]
        return entry

    def get(self, name: str) -> T:
        """The entry ``name``; an unknown name raises a one-line error listing the known ones."""
        self._fill()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise TrainfreeError(f"unknown {self.kind} {name!r}; available: {self.choices()}{self._hint}") from None

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._fill()
        return sorted(self._entries)

    def values(self) -> list[T]:
        """The entries in the order of :meth:`names`."""
        return [self._entries[n] for n in self.names()]

    def choices(self) -> str:
        """The known names in words, as error messages give them."""
        names = self.names()
        return self._choices(names) if self._choices is not None else ", ".join(names)

    def __contains__(self, name: object) -> bool:
        self._fill()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._fill()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} entries)"

    def _fill(self) -> None:
        if self._load is not None:
            load, self._load = self._load, None
            try:
                load()
            except BaseException:
                self._load = load  # a failed load is tried again on the next use
                raise


def _origin(entry: object) -> str:
    """`` (from <module>)`` for an entry that knows where it was defined, else nothing."""
    fn = getattr(entry, "fn", entry)
    module = getattr(fn, "__module__", None) if hasattr(fn, "__qualname__") else None
    return f" (from {module})" if isinstance(module, str) else ""
