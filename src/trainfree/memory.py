"""Resident memory of a long scoring process: read it, and give freed heap pages back.

Scoring one NB201 network at benchmark size (C=16, N=5, batch 64) allocates and frees
hundreds of MiB of activations and graphs. glibc keeps freed heap pages resident, so the
process's RSS climbs over the first hundreds of archs although nothing is kept (the live
tensors and objects stay constant; ``tests/test_memory.py``). :class:`HeapGuard` watches
the RSS and calls ``malloc_trim(0)`` whenever it has grown more than a set amount above its
level after the first unit of work, which bounds the RSS, at no cost while it stays below.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

__all__ = ["HeapGuard", "malloc_trim", "rss_mib"]


def rss_mib() -> float:
    """Current resident set size in MiB (VmRSS; peak ``ru_maxrss`` where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        import os

        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@functools.cache
def _trim_fn():
    try:
        fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


def malloc_trim() -> bool:
    """Give freed heap pages back to the system (glibc ``malloc_trim(0)``); False where the C
    library has no such call (macOS, musl)."""
    fn = _trim_fn()
    return bool(fn(0)) if fn is not None else False


class HeapGuard:
    """Trim the heap when the RSS has grown more than ``limit_mib`` above its level after the
    first unit of work.

    ``check()`` after each unit of work (one arch) reads the RSS (one small /proc read). The
    first check records the level: the working set of one unit plus what the allocator keeps
    of it. Later checks trim only when the RSS is more than ``limit_mib`` above that level,
    so the RSS stays bounded while trimming (and the page faults that follow it) happens only
    when the allocator's retained memory has grown. ``limit_mib <= 0`` disables it.
    """

    def __init__(self, limit_mib: float = 256.0):
        self.limit_mib = limit_mib
        self.level: float | None = None
        self.trims = 0

    def check(self) -> bool:
        """Trim if the RSS is over the bound; whether a trim happened."""
        if self.limit_mib <= 0 or _trim_fn() is None:
            return False
        rss = rss_mib()
        if self.level is None:
            self.level = rss
            return False
        if rss - self.level <= self.limit_mib:
            return False
        malloc_trim()
        self.trims += 1
        return True
