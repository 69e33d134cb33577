"""Memory estimates checked before large allocations: refuse, with the estimate, what cannot fit.

A city graph or an engine that does not fit in memory would otherwise fail minutes later with
a bare MemoryError, or push the machine into swap. The estimates are the measured bytes per
tie and per resident of the current code (docs/performance.md) and so are approximate; set
the environment variable ``LAOTIE_MEMORY_CHECK=0`` to try anyway.
"""

from __future__ import annotations

import ctypes
import os
import sys

import numpy as np

from .errors import LaotieError

__all__ = [
    "available_bytes",
    "cgroup_room",
    "check_fits",
    "keep_freed_memory",
    "touch",
]

PAGE = 4096
"""The page size the operating system maps memory in (at least)."""


def touch(*arrays: np.ndarray) -> None:
    """Write one byte of every page of each (contiguous) array, with the value it holds.

    The pages of a large ``np.zeros`` array are mapped lazily: the operating system zeroes a
    page (or a 2 MB huge page at once) on its first write. State arrays that a run writes
    here and there would otherwise take those faults during its first weeks, in bursts;
    touched at set-up, their cost is paid where the memory is allocated.
    """
    for array in arrays:
        if not array.flags.c_contiguous:
            raise ValueError("touch: the arrays must be contiguous (a copy would be touched)")
        data = array.reshape(-1).view(np.uint8)
        # A write (numpy skips assigning an array to itself); the last byte too, as the
        # data need not start on a page.
        data[::PAGE] |= 0
        data[-1:] |= 0


MMAP_THRESHOLD = 32 << 20
"""Blocks of this many bytes or more are mapped on their own (glibc's most, for mallopt)."""
TRIM_THRESHOLD = 256 << 20
"""Freed memory at the top of the heap kept for the next allocations, up to this much."""
ALLOCATOR = "LAOTIE_MALLOPT"
"""``LAOTIE_MALLOPT=0`` (or ``off``, ``false``, ``no``) leaves the C library's allocator as it
is."""
_GLIBC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")
_KEPT: list[bool] = []


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to keep the memory a day frees for the next day (once a
    process, for the rest of it; returns whether it is set).

    A day allocates and frees arrays of up to tens of megabytes. By default glibc maps such a
    block on its own, or returns the freed top of its heap to the operating system beyond a
    threshold it adapts, so the next day's arrays fault their pages in again: about 2,700
    page faults a day on the whole city, and in a virtual machine each costs far more than
    the write that causes it. This takes blocks under :data:`MMAP_THRESHOLD` from the heap
    and keeps up to :data:`TRIM_THRESHOLD` of freed memory at the heap's top: a city day went
    from 65-68 to 60-61 ms (docs/performance.md) and its peak memory from 3.65 to 3.69 GB.
    The numbers do not change (where a block lies decides nothing).

    The cost is memory a process no longer uses and does not give back: the freed top of
    the heap, up to 256 MB, and, as blocks under 32 MB now come from the heap, any freed block
    below one still in use (a notebook that built a city keeps some of what it freed until
    it exits). Nothing is changed on other C libraries (``mallopt`` is glibc's), when the
    environment sets glibc's own settings (``MALLOC_MMAP_THRESHOLD_``,
    ``MALLOC_TRIM_THRESHOLD_``, ``GLIBC_TUNABLES``), or with ``LAOTIE_MALLOPT`` set to
    ``0``, ``off``, ``false`` or ``no``.
    """
    if _KEPT:
        return _KEPT[0]
    if (
        sys.platform != "linux"
        or os.environ.get(ALLOCATOR, "1").strip().lower() in ("0", "off", "false", "no")
        or any(name in os.environ for name in _GLIBC_SETTINGS)
    ):
        _KEPT.append(False)
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc's, not musl's (whose mallopt does nothing)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        _KEPT.append(False)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
    kept = bool(
        mallopt(m_mmap_threshold, MMAP_THRESHOLD) and mallopt(m_trim_threshold, TRIM_THRESHOLD)
    )
    _KEPT.append(kept)
    return kept


ENVIRONMENT = "LAOTIE_MEMORY_CHECK"


def available_bytes() -> int | None:
    """Memory the operating system can give this process now (Linux: ``MemAvailable``,
    which counts reclaimable caches, or less if a cgroup v2 limit leaves less room;
    elsewhere the free physical pages), or None if unknown."""
    system = _system_available()
    room = cgroup_room()
    if system is None or room is None:
        return room if system is None else system
    return min(system, room)


def cgroup_room(folder: str = "/sys/fs/cgroup") -> int | None:
    """What a cgroup v2 memory limit still allows, or None without a limit (containers set
    one; the machine's free memory does not see it): ``memory.max - memory.current`` plus the
    page cache the kernel can reclaim (``inactive_file`` of ``memory.stat``), since a
    container that has read files sits near its limit in cache it can give back."""
    try:
        with open(f"{folder}/memory.max", encoding="ascii") as limit:
            text = limit.read().strip()
        if text == "max":
            return None
        with open(f"{folder}/memory.current", encoding="ascii") as current:
            used = int(current.read().strip())
        reclaimable = 0
        try:
            with open(f"{folder}/memory.stat", encoding="ascii") as stat:
                for line in stat:
                    key, _, value = line.partition(" ")
                    if key == "inactive_file":
                        reclaimable = int(value)
        except (OSError, ValueError):
            pass
        return max(int(text) - used + reclaimable, 0)
    except (OSError, ValueError):
        return None


def _system_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def check_fits(what: str, estimate: int, hint: str, error: type[LaotieError]) -> None:
    """Raise ``error`` if ``estimate`` bytes are more than the memory available.

    The message names what was asked, the estimate, what is available and ``hint`` (how to
    ask for less).
    """
    if os.environ.get(ENVIRONMENT, "1").strip() == "0":
        return
    available = available_bytes()
    if available is None or estimate <= available:
        return
    raise error(
        f"{what} needs about {_size(estimate)} of memory and {_size(available)} are "
        f"available: {hint} (the estimate is approximate; set {ENVIRONMENT}=0 to try anyway)"
    )


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.0f} MB"
