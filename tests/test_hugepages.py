"""``autograder.hugepages``: the grader's memory moved into huge pages before it forks is the same memory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder import hugepages


def _kernel_can_collapse() -> str | None:
    release = tuple(int(x) for x in os.uname().release.split(".")[:2] if x.isdigit())
    if release < (6, 1):
        return f"MADV_COLLAPSE needs Linux 6.1 (this is {os.uname().release})"
    mode = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not mode.exists() or "[never]" in mode.read_text():
        return "transparent huge pages are off on this machine"
    return None


def test_memory_is_unchanged_here_and_in_a_forked_child():
    data = bytearray(os.urandom(1 << 16)) * 200  # about 13 MB of private memory, spanning huge-page boundaries
    digest = hash(bytes(data))
    hugepages.collapse()
    assert hash(bytes(data)) == digest
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        data[12345] ^= 0xFF  # the child's write is its own
        os.write(write, b"1" if hash(bytes(data)) != digest else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.close(read)
    os.waitpid(pid, 0)
    assert hash(bytes(data)) == digest  # the parent's memory is untouched by the child's write


def test_huge_pages_are_used_where_the_kernel_can():
    why = _kernel_can_collapse()
    if why:
        pytest.skip(why)
    keep = bytearray(64 << 20)  # noqa: F841 - memory to collapse
    keep[:: 4096] = b"x" * len(keep[:: 4096])
    assert hugepages.collapse() >= 2 << 20
