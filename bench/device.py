"""Where a run computes, and what it reads off the hardware.

The device choice (``device: auto | cpu | cuda``), the mixed-precision context, and
the device's description and peak host memory as a run record states them.
"""

from __future__ import annotations

import platform
import resource

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


def peak_host_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
