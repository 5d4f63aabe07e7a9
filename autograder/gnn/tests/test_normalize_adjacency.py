"""Hidden tests of `normalize_adjacency(adj, add_self_loops=True)`: D^-1/2 M D^-1/2 with M = adj + I
(adj itself when add_self_loops is False) and D_ii = sum_j M_ij (row sums); a node of degree 0 gets a
zero row and column.

Oracle: the entrywise formula M_ij / sqrt(d_i d_j), built node pair by node pair in float64. Every
value test checks both settings of add_self_loops, so a bug in either costs the whole test.
Invariants: symmetric output for a symmetric graph, eigenvalues in [-1, 1], top eigenvector
sqrt(d + 1) with eigenvalue 1, permutation equivariance.
"""

import math

import pytest
import torch

from autograder.testing import expect_close, load_helpers

H = load_helpers(__file__)
pytestmark = pytest.mark.question("normalize_adjacency")

F64 = torch.float64


def oracle(adj, loops):
    m = adj.detach().cpu().to(F64) + (torch.eye(adj.shape[0], dtype=F64) if loops else 0.0)
    d = m.sum(1).tolist()
    out = torch.zeros_like(m)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j] != 0 and d[i] > 0 and d[j] > 0:  # a node of degree 0: zero row and column
                out[i, j] = m[i, j] / math.sqrt(d[i] * d[j])
    return out


def call(sub, adj, loops):
    out = sub.normalize_adjacency(adj, add_self_loops=loops)
    ok = bool(isinstance(out, torch.Tensor) and out.shape == adj.shape)
    assert ok, (
        f"normalize_adjacency must return a tensor of adj's shape {tuple(adj.shape)}; got {H.describe(out)}")
    ok = bool(out.dtype == adj.dtype)
    assert ok, (
        f"normalize_adjacency must keep adj's dtype {adj.dtype}, got {out.dtype}")
    ok = bool(torch.isfinite(out).all())
    assert ok, (
        f"normalize_adjacency(add_self_loops={loops}) gave nan or inf: a node of degree 0 has d^-1/2 = inf; "
        "give its row and column zeros")
    return out


def both(sub, observe, adj, what, rtol=1e-10, atol=1e-12):
    for loops in (True, False):
        out = call(sub, adj, loops)
        expect_close(
            out.cpu().to(F64), oracle(adj, loops),
            f"D^-1/2 M D^-1/2 with M = {'A + I' if loops else 'A'} and D = the row sums of M "
            f"(add_self_loops={loops}, {what}): entry (i, j) is M_ij / sqrt(d_i d_j)",
            rtol=rtol, atol=atol)
        observe(f"add_self_loops={loops}", out)


@pytest.mark.parametrize("n,p", [(1, 0.0), (2, 1.0), (5, 0.5), (12, 0.3), (30, 0.15)])
def test_symmetric_graphs(sub, observe, device, gen, n, p):
    """equals the entrywise formula on undirected graphs, with and without self-loops"""
    adj = H.random_adj(gen, n, p=p, isolated=(0,) if n >= 5 else ())
    both(sub, observe, adj.to(device), "undirected graph")


def test_no_isolated_node(sub, observe, device, gen):
    """equals the entrywise formula on a graph where every node has an edge"""
    adj = H.random_adj(gen, 15, p=0.5)
    adj[torch.arange(15), (torch.arange(15) + 1) % 15] = 1.0  # a ring: every degree >= 1
    adj[(torch.arange(15) + 1) % 15, torch.arange(15)] = 1.0
    both(sub, observe, adj.to(device), "connected graph")


def test_isolated_nodes(sub, observe, device, gen):
    """nodes of degree 0 get zero rows and columns without self-loops, and 1 on the diagonal with them"""
    adj = H.random_adj(gen, 9, p=0.5, isolated=(1, 4, 8)).to(device)
    both(sub, observe, adj, "three isolated nodes")
    out = call(sub, adj, True)
    ok = bool(torch.allclose(out[4].cpu(), torch.eye(9, dtype=F64)[4]))
    assert ok, (
        "with self-loops an isolated node's only entry is its own: 1 / sqrt(1 * 1) = 1 on the diagonal")


def test_directed_graph(sub, observe, device, gen):
    """uses the row sums (edges INTO each node) as degrees for a directed graph"""
    adj = H.random_adj(gen, 10, p=0.35, symmetric=False, isolated=(3,))
    adj[:, 5] = 0.0
    adj[5, :6] = 1.0  # node 5 receives from 0..4 but sends nothing: rows and columns differ
    adj[5, 5] = 0.0
    adj[5, 3] = 0.0
    both(sub, observe, adj.to(device), "directed graph: d_i = sum_j M_ij, the row sums")


def test_weighted_graph(sub, observe, device, gen):
    """uses weighted degrees (sums of the entries) for a weighted graph"""
    adj = H.random_adj(gen, 10, p=0.4, isolated=(7,), weighted=True)
    both(sub, observe, adj.to(device), "weighted graph: the degree is the sum of the weights")


def test_spectrum(sub, observe, device, gen):
    """with self-loops: symmetric, eigenvalues in (-1, 1], top eigenvector sqrt(d + 1)"""
    adj = H.random_adj(gen, 20, p=0.3)
    adj[torch.arange(19), torch.arange(1, 20)] = 1.0  # a path through every node: connected
    adj[torch.arange(1, 20), torch.arange(19)] = 1.0
    out = call(sub, adj.to(device), True).cpu()
    ok = bool(torch.allclose(out, out.T, atol=1e-12))
    assert ok, (
        "for an undirected graph the normalised adjacency is symmetric: both sides get D^-1/2")
    values, vectors = torch.linalg.eigh(out)
    ok = bool(values.min() > -1 - 1e-9 and abs(values.max() - 1) < 1e-9)
    assert ok, (
        f"the eigenvalues of D^-1/2 (A + I) D^-1/2 lie in (-1, 1] with top eigenvalue exactly 1; got "
        f"[{values.min():.4f}, {values.max():.4f}]")
    top = (adj.sum(1) + 1).sqrt()
    cos = float(abs(vectors[:, -1] @ top) / top.norm())
    ok = bool(cos > 1 - 1e-9)
    assert ok, (
        f"the top eigenvector must be sqrt(d + 1) (degrees of A + I); |cos| = {cos:.6f}")
    observe("eigenvalues", values)


def test_permutation_equivariant(sub, observe, device, gen):
    """renumbering the nodes renumbers the rows and columns of the result"""
    adj = H.random_adj(gen, 12, p=0.3, isolated=(2,))
    perm, _ = H.permutation(gen, 12)
    for loops in (True, False):
        out = call(sub, adj.to(device), loops).cpu()
        permuted = call(sub, adj[perm][:, perm].to(device), loops).cpu()
        expect_close(
            permuted, out[perm][:, perm],
            f"normalize_adjacency(P A P^T) must equal P normalize_adjacency(A) P^T (add_self_loops={loops})",
            rtol=1e-10, atol=1e-12)
        observe(f"add_self_loops={loops}", out)


def test_float32_and_input_untouched(sub, observe, device, gen):
    """works in float32 and leaves adj unchanged"""
    adj = H.random_adj(gen, 16, p=0.3, isolated=(5,), dtype=torch.float32).to(device)
    before = adj.clone()
    for loops in (True, False):
        out = call(sub, adj, loops)
        ok = bool(torch.equal(adj, before))
        assert ok, (
            "normalize_adjacency changed its input adj in place: build A + I as a new tensor")
        observe(f"add_self_loops={loops} (float32)", out, rtol=1e-5, atol=1e-6)
