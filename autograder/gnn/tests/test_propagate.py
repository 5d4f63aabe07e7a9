"""Hidden tests of `propagate(x, edge_index, edge_weight=None, reduce="sum")`: out[i] = reduce over the
edges e = (j -> i) of edge_weight[e] * x[j]; "mean" divides by the number of incoming edges; a node
without incoming edges gets zeros; gradients flow to x and edge_weight.

Oracle: a per-node Python loop in float64. Every test runs all three reductions (a bug in one of them
costs every test). Edges come in a shuffled order; graphs have nodes that receive nothing. A graph of
100 000 nodes checks that the scatter is sparse (its dense adjacency would need 80 GB).
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

H = load_helpers(__file__)
pytestmark = pytest.mark.question("propagate")

F64 = torch.float64
REDUCES = ("sum", "mean", "max")


def call(sub, x, edge_index, w, reduce):
    out = sub.propagate(x, edge_index, w, reduce=reduce)
    ok = bool(isinstance(out, torch.Tensor) and out.shape == x.shape)
    assert ok, (
        f"propagate(reduce={reduce!r}) must return a tensor of x's shape (N, F) = {tuple(x.shape)}; got "
        f"{H.describe(out)}")
    ok = bool(torch.isfinite(out).all())
    assert ok, (
        f"propagate(reduce={reduce!r}) gave nan or inf: a node without incoming edges must get zeros "
        "(a mean over no edge is not 0/0 here, a max over no edge is not -inf)")
    return out


def check_all(sub, observe, x, edge_index, w, what):
    for reduce in REDUCES:
        out = call(sub, x, edge_index, w, reduce)
        expect_close(
            out.detach().cpu().to(F64), H.loop_propagate(x, edge_index, w, reduce),
            f"propagate(reduce={reduce!r}, {what}): out[i] = {reduce} over the edges j -> i (edge_index[0] = j, "
            "edge_index[1] = i) of w_e * x[j]" + ("; the mean divides by the NUMBER of incoming edges"
                                                  if reduce == "mean" else ""),
            rtol=1e-10, atol=1e-12)
        observe(f"reduce={reduce}", out)


@pytest.mark.question("propagate", weight=3)  # the core check: every reduction, with and without weights
@pytest.mark.parametrize("n,p,symmetric", [(2, 1.0, False), (4, 0.6, False), (10, 0.3, True), (25, 0.15, False)])
def test_matches_loop(sub, observe, device, gen, n, p, symmetric):
    """equals a per-node loop for every reduction, without and with edge weights"""
    adj = H.random_adj(gen, n, p=p, symmetric=symmetric, isolated=(n - 1,) if n > 2 else ())
    edge_index = H.edges_of(adj, gen).to(device)
    x = torch.randn(n, 3, generator=gen, dtype=F64).to(device)
    w = torch.empty(edge_index.shape[1], dtype=F64).uniform_(0.1, 2.0, generator=gen).to(device)
    check_all(sub, observe, x, edge_index, None, "no edge weights")
    check_all(sub, observe, x, edge_index, w, "with edge weights")


@pytest.mark.question("propagate", weight=2)
def test_negative_weights_and_features(sub, observe, device, gen):
    """handles negative weights (the max is over the weighted messages) and wide features"""
    adj = H.random_adj(gen, 12, p=0.4, symmetric=False, isolated=(0, 6))
    edge_index = H.edges_of(adj, gen).to(device)
    x = (3 * torch.randn(12, 17, generator=gen, dtype=F64)).to(device)
    w = torch.randn(edge_index.shape[1], generator=gen, dtype=F64).to(device)
    check_all(sub, observe, x, edge_index, w, "negative weights")


def test_direction(sub, observe, device, gen):
    """messages go from edge_index[0] to edge_index[1] (a directed path 0 -> 1 -> ... -> 5)"""
    edge_index = torch.stack([torch.arange(5), torch.arange(1, 6)]).to(device)
    x = torch.randn(6, 2, generator=gen, dtype=F64).to(device)
    for reduce in REDUCES:
        out = call(sub, x, edge_index, None, reduce)
        ok = bool((out[0] == 0).all() and torch.allclose(out[1:], x[:-1]))
        assert ok, (
            f"on the path 0 -> 1 -> ... -> 5, propagate(reduce={reduce!r}) must give out[i] = x[i - 1] and "
            "out[0] = 0: the message of edge e goes FROM edge_index[0, e] TO edge_index[1, e]")
        observe(f"reduce={reduce}", out)


@pytest.mark.parametrize("n", [1, 5])
def test_no_edges(sub, observe, device, gen, n):
    """a graph without edges (a single node too) gives zeros for every reduction"""
    x = torch.randn(n, 3, generator=gen, dtype=F64).to(device)
    edge_index = torch.zeros(2, 0, dtype=torch.long).to(device)
    for reduce in REDUCES:
        out = call(sub, x, edge_index, None, reduce)
        observe(f"reduce={reduce}", out)


def test_gradients(sub, observe, device, gen):
    """gradients reach x and edge_weight (random upstream gradient), for every reduction"""
    adj = H.random_adj(gen, 9, p=0.4, symmetric=False, isolated=(4,))
    edge_index = H.edges_of(adj, gen).to(device)
    for reduce in REDUCES:
        x = torch.randn(9, 3, generator=gen, dtype=F64).to(device).requires_grad_(True)
        w = torch.empty(edge_index.shape[1], dtype=F64).uniform_(0.5, 1.5, generator=gen)
        w = w.to(device).requires_grad_(True)
        upstream = torch.randn(9, 3, generator=gen, dtype=F64).to(device)
        x0 = x.detach().clone()
        (call(sub, x, edge_index, w, reduce) * upstream).sum().backward()
        ok = bool(x.grad is not None and w.grad is not None)
        assert ok, (
            f"propagate(reduce={reduce!r}) must be differentiable in x and edge_weight (no .detach(), no in-place "
            "writes into x)")
        ok = bool(torch.equal(x.detach(), x0))
        assert ok, (
            "propagate changed x in place: build the output in a new tensor")
        observe(f"x.grad ({reduce})", x.grad)
        observe(f"edge_weight.grad ({reduce})", w.grad)


def test_gradcheck(sub, observe, device, gen):
    """passes torch.autograd.gradcheck (analytic against finite differences) for sum and mean"""
    adj = H.random_adj(gen, 6, p=0.5, symmetric=False, isolated=(2,))
    edge_index = H.edges_of(adj, gen).to(device)
    x = torch.randn(6, 2, generator=gen, dtype=F64).to(device).requires_grad_(True)
    w = torch.rand(edge_index.shape[1], generator=gen, dtype=F64).to(device).requires_grad_(True)
    for reduce in ("sum", "mean"):
        passed = torch.autograd.gradcheck(lambda a, b: sub.propagate(a, edge_index, b, reduce=reduce), (x, w),
                                          raise_exception=False)
        assert passed, (
            f"the gradient of propagate(reduce={reduce!r}) disagrees with finite differences")
        observe(f"gradcheck {reduce}", passed)
    observe("out (max)", call(sub, x.detach(), edge_index, w.detach(), "max"))


def test_float32(sub, observe, device, gen):
    """works in float32 and keeps the dtype"""
    adj = H.random_adj(gen, 15, p=0.3, symmetric=False, isolated=(3,))
    edge_index = H.edges_of(adj, gen).to(device)
    x = torch.randn(15, 4, generator=gen).to(device)
    w = torch.rand(edge_index.shape[1], generator=gen).to(device)
    for reduce in REDUCES:
        out = call(sub, x, edge_index, w, reduce)
        ok = bool(out.dtype == torch.float32)
        assert ok, (
            f"float32 inputs must give float32 outputs, got {out.dtype}")
        observe(f"reduce={reduce} (float32)", out, rtol=1e-5, atol=1e-6)


def test_large_sparse_graph(sub, observe, device, gen):
    """scales to 100 000 nodes and 300 000 edges (a dense adjacency would not fit in memory)"""
    n, e = 100_000, 300_000
    edge_index = torch.stack([torch.randint(n, (e,), generator=gen), torch.randint(n, (e,), generator=gen)])
    x = torch.randn(n, 2, generator=gen)
    w = torch.rand(e, generator=gen)
    probe = torch.randint(n, (40,), generator=gen)
    keep = torch.isin(edge_index[1], probe)  # the edges into the probed nodes, for the loop oracle
    for reduce in REDUCES:
        out = call(sub, x.to(device), edge_index.to(device), w.to(device), reduce).cpu()
        small = H.loop_propagate(x, edge_index[:, keep], w[keep], reduce)
        expect_close(
            out[probe].to(F64), small[probe],
            f"propagate(reduce={reduce!r}) on a graph of {n} nodes differs from the per-node loop on 40 of them",
            rtol=1e-5, atol=1e-6)
        observe(f"reduce={reduce}, 40 probed nodes", out[probe], rtol=1e-5, atol=1e-6)
