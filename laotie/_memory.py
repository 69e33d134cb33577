"""Memory estimates checked before large allocations: refuse, with the estimate, what cannot fit.

A city graph or an engine that does not fit in memory would otherwise fail minutes later with
a bare MemoryError, or push the machine into swap. The estimates are the measured bytes per
tie and per resident of the current code (docs/performance.md) and so are approximate; set
the environment variable ``LAOTIE_MEMORY_CHECK=0`` to try anyway.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator

import numpy as np

from .errors import LaotieError

__all__ = ["available_bytes", "cgroup_room", "check_fits", "size_text", "small_pages", "touch"]

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


def _huge_page_switch() -> Callable[[bool], bool] | None:
    """numpy's switch of its huge-page advice (returns the previous setting), or None."""
    for module in ("_core", "core"):
        multiarray = getattr(getattr(np, module, None), "multiarray", None)
        switch = getattr(multiarray, "_set_madvise_hugepage", None)
        if switch is not None:
            return switch  # type: ignore[no-any-return]
    return None


class _Withheld:
    """The open :func:`small_pages` blocks of the process, and numpy's setting before the
    first (changed under ``lock``)."""

    lock = threading.Lock()
    blocks = 0
    before = True


_SWITCH = _huge_page_switch()


@contextlib.contextmanager
def small_pages() -> Iterator[None]:
    """Withhold numpy's huge-page advice from the arrays made inside (on Linux; elsewhere,
    or with a numpy without the switch, nothing changes). Usable as a decorator.

    numpy asks Linux to back every array of 4 MB or more with 2 MB pages, which pays where
    an array is read at random (a day's rules: fewer misses of the address cache). Arrays
    that are written and read in order, as a graph's build and a saved graph's read make
    them, gain nothing from it, and a fresh 2 MB page can be dear: on a virtual machine
    whose host takes back the guest's free 2 MB blocks (free page reporting), each one is
    mapped again by the host, 5-21 ms where small pages come from memory the machine holds
    (docs/performance.md, twenty-eighth session). The advice is numpy's setting for the
    whole process: blocks opened in several threads at once withhold it until the last one
    closes, then the setting before the first is restored (a user's
    ``NUMPY_MADVISE_HUGEPAGE=0`` stays). Another thread's arrays made meanwhile get small
    pages too; the advice is a hint and never changes a result.
    """
    if _SWITCH is None:
        yield
        return
    with _Withheld.lock:
        if _Withheld.blocks == 0:
            _Withheld.before = bool(_SWITCH(False))
        _Withheld.blocks += 1
    try:
        yield
    finally:
        with _Withheld.lock:
            _Withheld.blocks -= 1
            if _Withheld.blocks == 0:
                _SWITCH(_Withheld.before)


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
        f"{what} needs about {size_text(estimate)} of memory and {size_text(available)} are "
        f"available: {hint} (the estimate is approximate; set {ENVIRONMENT}=0 to try anyway)"
    )


def size_text(n_bytes: int) -> str:
    """Bytes as people read them: "1.2 GB" from a gigabyte, else "350 MB"."""
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.0f} MB"
