"""Where a run computes, and what it reads off the hardware.

The device choice (``device: auto | cpu | cuda``), the mixed-precision context, and
the device's description, clock and memory as a run record states them.

A GPU runs asynchronously: a wall-clock read while kernels are still queued measures
the queueing, not the work, so :func:`clock` waits for the device first. On the CPU
every helper here is a plain read or a no-op.
"""

from __future__ import annotations

import ctypes
import gc
import platform
import resource
import time
from pathlib import Path

import torch


def resolve_device(name: str) -> torch.device:
    """``auto`` -> a CUDA device when one is available, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config `device: cuda` but no CUDA device is available")
    return torch.device(name)


def autocast(device: torch.device):
    """bf16 autocast on a GPU; a no-op on the CPU (whose runs stay bit-reproducible)."""
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} thread(s)"


def start_host_peak() -> None:
    """Start the host's peak resident set size again from what the process holds now.

    A cell trains several runs in one process (bench.cell), and a process's peak would
    charge a small run with the largest run before it. So an earlier run's garbage is
    collected, the heap pages it freed are handed back to the OS (glibc's
    ``malloc_trim``; docs/PERFORMANCE.md, "Cost accounting", has what each step saves),
    and Linux's high-water mark is reset (writing 5 to /proc/self/clear_refs). Where
    either is missing (another OS or C library, a read-only /proc) that step is skipped
    and the peak is the process's.

    What survives the collection (imported modules, the cell's loaded data) is frozen
    (``gc.freeze``), so the next run's collection skips it: a full collection walks every
    object torch's imports made, which cost more than many a CI run trains.
    """
    gc.collect()
    gc.freeze()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_host_rss_bytes() -> int:
    """Peak resident set size in bytes since :func:`start_host_peak`.

    Linux's ``VmHWM``; elsewhere the whole process's (``ru_maxrss``, in KiB on Linux).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); nothing to wait for on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def clock(device: torch.device) -> float:
    """``time.perf_counter()`` once the device's queued work is done: time reads that count it."""
    synchronize(device)
    return time.perf_counter()


def allocated_bytes(device: torch.device) -> int | None:
    """Accelerator memory held by tensors now (``memory_allocated``); None on the CPU."""
    return int(torch.cuda.memory_allocated(device)) if device.type == "cuda" else None


def start_peak(device: torch.device) -> None:
    """Start measuring the accelerator's peak from what is allocated now (CUDA only)."""
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def peak_bytes(device: torch.device) -> int | None:
    """Most accelerator memory held since :func:`start_peak`; None on the CPU."""
    return int(torch.cuda.max_memory_allocated(device)) if device.type == "cuda" else None
