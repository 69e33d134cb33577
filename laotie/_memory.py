"""Memory estimates checked before large allocations: refuse, with the estimate, what cannot fit.

A city graph or an engine that does not fit in memory would otherwise fail minutes later with
a bare MemoryError, or push the machine into swap. The estimates are the measured bytes per
tie and per resident of the current code (docs/performance.md) and so are approximate; set
the environment variable ``LAOTIE_MEMORY_CHECK=0`` to try anyway.
"""

from __future__ import annotations

import os

import numpy as np

from .errors import LaotieError

__all__ = ["available_bytes", "cgroup_room", "check_fits", "touch"]

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
