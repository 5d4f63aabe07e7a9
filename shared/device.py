"""Choosing and describing the device a notebook or test runs on.

Course code never hard-codes ``.cuda()``: it asks :func:`get_device` once and
then takes the device from its inputs. That keeps every notebook runnable on a
laptop CPU and on a GPU grader without edits.
"""

from __future__ import annotations

import os

import torch

__all__ = ["cuda_available", "describe_device", "get_device", "mps_available", "set_cpu_threads"]


def cuda_available() -> bool:
    """Whether a CUDA device can be used.

    ``torch.cuda.is_available`` does not initialise the CUDA context, so this is
    cheap and safe to call at import time or in a ``skipif``.
    """
    return torch.cuda.is_available()


def mps_available() -> bool:
    """Whether Apple's Metal (MPS) backend can be used."""
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(spec: str | torch.device | None = "auto") -> torch.device:
    """Resolve a device request into a usable :class:`torch.device`.

    ``"auto"`` (or ``None``) picks CUDA when available and the CPU otherwise.
    MPS is never picked automatically because it has no float64 support, which
    the course's reference checks rely on; ask for ``"mps"`` explicitly.

    Requesting a device that does not exist raises a ``RuntimeError`` right
    away, with a message saying what to do, instead of failing later with an
    obscure error deep inside a training loop.
    """
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "auto"):
        return torch.device("cuda") if cuda_available() else torch.device("cpu")
    if isinstance(spec, str):
        try:
            device = torch.device(spec.strip().lower())
        except RuntimeError as err:
            raise ValueError(f"unknown device {spec!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from err
    elif isinstance(spec, torch.device):
        device = spec
    else:
        raise TypeError(f"device spec must be a str, torch.device or None, got {type(spec).__name__}")

    if device.type == "cuda":
        if not cuda_available():
            raise RuntimeError(
                "CUDA was requested but is not available on this machine "
                "(no NVIDIA GPU, or PyTorch was installed without CUDA support). "
                "Use get_device('auto') or 'cpu' to run on the CPU."
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise RuntimeError(
                f"{device} was requested but only {count} CUDA device(s) exist (valid indices: 0..{count - 1})."
            )
    elif device.type == "mps":
        if not mps_available():
            raise RuntimeError(
                "MPS was requested but is not available (it needs an Apple-silicon Mac "
                "and a PyTorch build with MPS). Use get_device('auto') or 'cpu'."
            )
    elif device.type != "cpu":
        raise ValueError(f"unsupported device type {device.type!r}: use 'cpu', 'cuda' or 'mps'")
    return device


def describe_device(device: str | torch.device | None = None) -> str:
    """A one-line human description, e.g. ``"cpu (2 threads)"``.

    Printed at the top of notebooks so that timings in a student's report can
    be read in context (a 2-thread CPU and an A100 are not comparable).
    ``None`` describes the device :func:`get_device` would pick.
    """
    dev = get_device(device) if not isinstance(device, torch.device) else device
    if dev.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        memory_gb = props.total_memory / 1024**3
        return f"cuda:{index} ({props.name}, {memory_gb:.1f} GB)"
    if dev.type == "mps":
        return "mps (Apple GPU)"
    return str(dev)


def set_cpu_threads(threads: int | None = None) -> int:
    """Give torch's CPU operations a thread count that stays fast when the machine is busy; returns it.

    torch uses one thread per core by default, and its threads wait for each other at the end of every
    operation: when another program (a browser, a second notebook) holds one of the cores, every operation
    waits for the thread that is not running, and a notebook that takes 18 s on a quiet 2-core machine takes
    three minutes. Half the cores (at least one, at most 8) leave room for the rest of the machine; the
    course's models are small, so a quiet machine loses little. ``OMP_NUM_THREADS`` or ``threads`` decide
    instead when given. The released notebooks' setup cell calls this (through ``autograder.use``).
    """
    if threads is None:
        env = os.environ.get("OMP_NUM_THREADS", "")
        if env.isdigit() and int(env) > 0:
            threads = int(env)
        else:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
            threads = max(1, min(cores // 2, 8))
    torch.set_num_threads(threads)
    return threads
