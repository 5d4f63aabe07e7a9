"""Hidden tests of `global_pool(x, batch, reduce="mean")`: out[b] = reduce over the nodes i with
batch[i] == b of x[i], for b < B = batch.max() + 1; a graph without nodes gets zeros.

Oracle: a loop over the graphs in float64. Every test runs the three readouts (a bug in one costs every
test); batches are shuffled (the nodes of a graph are not contiguous) unless a test says otherwise.
Invariants: permuting the nodes (with their batch entries) changes nothing; one graph of all nodes is
the plain reduction over dim 0.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

H = load_helpers(__file__)
pytestmark = pytest.mark.question("pool")

F64 = torch.float64
REDUCES = ("mean", "sum", "max")


def oracle(x, batch, reduce):
    x = x.detach().cpu().to(F64)
    batch = batch.cpu()
    B = int(batch.max()) + 1
    out = torch.zeros(B, x.shape[1], dtype=F64)
    for b in range(B):
        rows = x[batch == b]
        if rows.shape[0]:
            out[b] = {"mean": rows.mean(0), "sum": rows.sum(0), "max": rows.max(0).values}[reduce]
    return out


def call(sub, x, batch, reduce):
    out = sub.global_pool(x, batch, reduce=reduce)
    B = int(batch.max()) + 1
    ok = bool(isinstance(out, torch.Tensor) and out.shape == (B, x.shape[1]))
    assert ok, (
        f"global_pool(reduce={reduce!r}) must return (B, F) = {(B, x.shape[1])} with B = batch.max() + 1; got "
        f"{H.describe(out)}")
    ok = bool(torch.isfinite(out).all())
    assert ok, (
        f"global_pool(reduce={reduce!r}) gave nan or inf: a graph without nodes must get zeros")
    return out


def check_all(sub, observe, x, batch, what):
    for reduce in REDUCES:
        out = call(sub, x, batch, reduce)
        expect_close(
            out.detach().cpu().to(F64), oracle(x, batch, reduce),
            f"global_pool(reduce={reduce!r}, {what}): row b is the {reduce} over the rows of x whose batch entry is "
            "b (over the nodes, dim 0, never over the features)", rtol=1e-10, atol=1e-12)
        observe(f"reduce={reduce}", out)


def shuffled_batch(gen, sizes):
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    return batch[torch.randperm(batch.numel(), generator=gen)]


@pytest.mark.question("pool", weight=2)  # the core check: every readout on interleaved graphs
@pytest.mark.parametrize("sizes", [(3, 5, 2), (1, 1), (7, 4, 1, 6, 2), (20, 13)],
                         ids=["3-5-2", "1-1", "5 graphs", "20-13"])
def test_matches_loop(sub, observe, device, gen, sizes):
    """equals a loop over the graphs for every readout (nodes of a graph interleaved, one feature all negative)"""
    batch = shuffled_batch(gen, sizes)
    x = torch.randn(batch.numel(), 3, generator=gen, dtype=F64)
    x[:, 0] -= 10.0  # a feature whose maximum is negative in every graph
    check_all(sub, observe, x.to(device), batch.to(device), "shuffled batch")


def test_sorted_batch(sub, observe, device, gen):
    """equals the loop for a sorted batch (PyTorch Geometric's layout), with wide features"""
    batch = torch.repeat_interleave(torch.arange(4), torch.tensor([2, 6, 3, 5]))
    x = (3 * torch.randn(16, 9, generator=gen, dtype=F64)).to(device)
    check_all(sub, observe, x, batch.to(device), "sorted batch")


def test_one_graph(sub, observe, device, gen):
    """one graph of all nodes: the plain mean, sum and max over dim 0 (negative features too)"""
    x = (torch.randn(11, 4, generator=gen, dtype=F64) - 2.0).to(device)
    batch = torch.zeros(11, dtype=torch.long).to(device)
    for reduce in REDUCES:
        out = call(sub, x, batch, reduce)
        plain = {"mean": x.mean(0), "sum": x.sum(0), "max": x.max(0).values}[reduce].unsqueeze(0)
        expect_close(out, plain, f"with every node in graph 0, global_pool(reduce={reduce!r}) is x.{reduce}(dim=0)",
                     rtol=1e-10, atol=1e-12)
        observe(f"reduce={reduce}", out)


def test_empty_graph(sub, observe, device, gen):
    """a graph index below batch.max() without nodes gets zeros for every readout"""
    batch = shuffled_batch(gen, (3, 0, 4, 0, 2))
    x = torch.randn(batch.numel(), 3, generator=gen, dtype=F64)
    check_all(sub, observe, x.to(device), batch.to(device), "graphs 1 and 3 have no node")


def test_permutation_invariant(sub, observe, device, gen):
    """permuting the nodes together with their batch entries changes nothing"""
    batch = shuffled_batch(gen, (4, 6, 5))
    x = torch.randn(15, 3, generator=gen, dtype=F64)
    perm, _ = H.permutation(gen, 15)
    for reduce in REDUCES:
        out = call(sub, x.to(device), batch.to(device), reduce)
        permuted = call(sub, x[perm].to(device), batch[perm].to(device), reduce)
        expect_close(permuted, out, f"global_pool(reduce={reduce!r}) must not depend on the order of the nodes",
                     rtol=1e-10, atol=1e-12)
        observe(f"reduce={reduce}", out)


def test_gradients(sub, observe, device, gen):
    """gradients reach x for every readout (random upstream gradient)"""
    batch = shuffled_batch(gen, (3, 4, 2)).to(device)
    for reduce in REDUCES:
        x = torch.randn(9, 3, generator=gen, dtype=F64).to(device).requires_grad_(True)
        upstream = torch.randn(3, 3, generator=gen, dtype=F64).to(device)
        (call(sub, x, batch, reduce) * upstream).sum().backward()
        ok = bool(x.grad is not None)
        assert ok, (
            f"global_pool(reduce={reduce!r}) must be differentiable in x")
        observe(f"x.grad ({reduce})", x.grad)


def test_float32(sub, observe, device, gen):
    """works in float32 and keeps the dtype"""
    batch = shuffled_batch(gen, (5, 3, 6)).to(device)
    x = torch.randn(14, 4, generator=gen).to(device)
    for reduce in REDUCES:
        out = call(sub, x, batch, reduce)
        ok = bool(out.dtype == torch.float32)
        assert ok, (
            f"float32 inputs must give float32 outputs, got {out.dtype}")
        observe(f"reduce={reduce} (float32)", out, rtol=1e-5, atol=1e-6)
