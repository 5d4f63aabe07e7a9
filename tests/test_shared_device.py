"""Tests of shared.device: device resolution and description."""

from __future__ import annotations

import pytest
import torch

from shared.device import cuda_available, describe_device, get_device

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")


def test_auto_picks_cuda_or_cpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert get_device("auto").type == expected
    assert get_device(None).type == expected
    assert get_device().type == expected


def test_cpu_accepted_as_string_and_device() -> None:
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(" CPU ") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")


def test_cuda_available_matches_torch() -> None:
    assert cuda_available() == torch.cuda.is_available()


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", torch.device("cuda")])
def test_cuda_request_without_cuda_raises_clear_error(spec: str | torch.device) -> None:
    with pytest.raises(RuntimeError, match="CUDA was requested but is not available"):
        get_device(spec)


def test_unavailable_mps_raises() -> None:
    backend = getattr(torch.backends, "mps", None)
    if backend is not None and backend.is_available():
        pytest.skip("MPS is available here")
    with pytest.raises(RuntimeError, match="MPS"):
        get_device("mps")


@pytest.mark.parametrize("spec", ["gpu", "tpu:3", ""])
def test_unknown_device_strings_raise_value_error(spec: str) -> None:
    with pytest.raises(ValueError):
        get_device(spec)


def test_wrong_type_raises_type_error() -> None:
    with pytest.raises(TypeError):
        get_device(0)  # type: ignore[arg-type]


def test_describe_cpu_mentions_threads() -> None:
    text = describe_device("cpu")
    assert text == f"cpu ({torch.get_num_threads()} threads)"
    assert describe_device(torch.device("cpu")) == text


@requires_cuda
def test_cuda_device_when_available() -> None:
    device = get_device("cuda")
    assert device.type == "cuda"
    assert torch.zeros(1, device=device).device.type == "cuda"
    assert torch.cuda.get_device_name(0) in describe_device(device)
    with pytest.raises(RuntimeError, match="CUDA device"):
        get_device(f"cuda:{torch.cuda.device_count()}")


def test_set_cpu_threads_leaves_room_on_a_busy_machine(monkeypatch):
    """Half the cores (at least one), unless OMP_NUM_THREADS or the caller says otherwise."""
    import os

    from shared.device import set_cpu_threads

    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(2)))
        assert set_cpu_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(6)))
        assert set_cpu_threads() == 3
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
        assert set_cpu_threads() == 8
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        assert set_cpu_threads() == 2
        assert set_cpu_threads(5) == 5
    finally:
        torch.set_num_threads(before)
