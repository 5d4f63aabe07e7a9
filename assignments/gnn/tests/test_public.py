"""Public tests of the gnn assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). The hidden tests check the same things more thoroughly: more graphs and
sizes, isolated nodes, directed and weighted graphs, float32, gradients, permutation equivariance,
numerical stability, independent oracles (per-node loops, dense formulas) and, for `train`, a
semi-supervised run on a stochastic block model drawn at grading time.

Questions are graded on their own: GATLayer's tests point the name `propagate` at a stand-in (a dense
product here), and GCN's tests point `GCNLayer` at a stand-in (a recorder of its arguments), so call
them BY NAME.
"""

import pytest
import torch
import torch.nn as nn

from autograder.testing import substitute

F64 = torch.float64


def random_graph(gen, n, p=0.3, symmetric=True):
    """A dense 0/1 adjacency (N, N) without self-loops: adj[i, j] = 1 for an edge j -> i."""
    adj = (torch.rand(n, n, generator=gen) < p).to(F64)
    if symmetric:
        adj = torch.triu(adj, diagonal=1)
        adj = adj + adj.T
    return adj * (1 - torch.eye(n, dtype=F64))


def edges_of(adj):
    """(2, E) edge_index of a dense adjacency: row 0 sources j, row 1 targets i."""
    return adj.nonzero().T.flip(0).contiguous()


# --------------------------------------------------------------------------- normalize_adjacency


@pytest.mark.question("normalize_adjacency")
def test_normalize_adjacency(sub, observe, device, gen):
    """matches the reference with and without self-loops; symmetric for a symmetric graph"""
    adj = random_graph(gen, 7).to(device)
    for loops in (True, False):
        out = sub.normalize_adjacency(adj, add_self_loops=loops)
        ok = bool(isinstance(out, torch.Tensor) and out.shape == adj.shape and out.dtype == adj.dtype)
        assert ok, (
            "normalize_adjacency must return a tensor of adj's shape (N, N) and dtype")
        ok = bool(torch.allclose(out, out.T))
        assert ok, (
            "for a symmetric adjacency D^-1/2 M D^-1/2 is symmetric: scale rows AND columns by d^-1/2")
        observe(f"add_self_loops={loops}", out)


@pytest.mark.question("normalize_adjacency")
def test_normalize_adjacency_isolated(sub, observe, device, gen):
    """an isolated node gets a zero row and column without self-loops, never nan"""
    adj = random_graph(gen, 6, p=0.6)
    adj[2, :] = adj[:, 2] = 0.0  # node 2 has no edge
    out = sub.normalize_adjacency(adj.to(device), add_self_loops=False)
    ok = bool(torch.isfinite(out).all())
    assert ok, (
        "a node of degree 0 gave nan or inf: d^-1/2 is infinite there, give its row and column zeros")
    observe("add_self_loops=False", out)


# --------------------------------------------------------------------------- propagate


@pytest.mark.question("propagate")
@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_propagate(sub, observe, device, gen, reduce):
    """matches the reference with and without edge weights; a node with no incoming edge gets zeros"""
    adj = random_graph(gen, 8, p=0.35, symmetric=False)
    adj[5, :] = 0.0  # nothing arrives at node 5
    edge_index = edges_of(adj).to(device)
    x = torch.randn(8, 3, generator=gen, dtype=F64).to(device)
    w = torch.rand(edge_index.shape[1], generator=gen, dtype=F64).to(device) + 0.5
    for weighted in (False, True):
        out = sub.propagate(x, edge_index, w if weighted else None, reduce=reduce)
        ok = bool(isinstance(out, torch.Tensor) and out.shape == x.shape)
        assert ok, (
            f"propagate must return (N, F) = {tuple(x.shape)}")
        ok = bool((out[5] == 0).all())
        assert ok, (
            "node 5 has no incoming edge: its row must be zeros")
        observe(f"weighted={weighted}", out)


# --------------------------------------------------------------------------- gcn


def gcn_layer(sub, gen, fin, fout, bias, device):
    layer = sub.GCNLayer(fin, fout, bias=bias).double()
    with torch.no_grad():
        layer.linear.weight.copy_(torch.randn(fout, fin, generator=gen, dtype=F64))
        if bias:
            layer.bias.copy_(torch.randn(fout, generator=gen, dtype=F64))
    return layer.to(device)


@pytest.mark.question("gcn")
@pytest.mark.parametrize("bias", [True, False])
def test_gcn_layer(sub, observe, device, gen, bias):
    """matches the reference for a (not symmetric) adj_norm"""
    layer = gcn_layer(sub, gen, 4, 3, bias, device)
    x = torch.randn(6, 4, generator=gen, dtype=F64).to(device)
    adj_norm = torch.rand(6, 6, generator=gen, dtype=F64).to(device)
    out = layer(x, adj_norm)
    ok = bool(isinstance(out, torch.Tensor) and out.shape == (6, 3))
    assert ok, (
        "GCNLayer.forward must return (N, out_features)")
    observe("out", out)


# --------------------------------------------------------------------------- gat


def dense_product(x, edge_index, edge_weight=None, reduce="sum"):
    """Stands in for propagate (sum only) with a dense (N, N) matrix: fine for a test, not for you."""
    assert reduce == "sum", "this stand-in only sums"
    n, e = x.shape[0], edge_index.shape[1]
    w = torch.ones(e, dtype=x.dtype, device=x.device) if edge_weight is None else edge_weight
    targets = torch.nn.functional.one_hot(edge_index[1], n).to(x.dtype).T  # (N, E)
    sources = torch.nn.functional.one_hot(edge_index[0], n).to(x.dtype)  # (E, N)
    return (targets @ (w.unsqueeze(-1) * sources)) @ x


@pytest.mark.question("gat")
def test_gat_layer(sub, observe, device, gen):
    """matches the reference; alpha has E + N entries summing to 1 over each target's incoming edges"""
    layer = sub.GATLayer(4, 3).double()
    with torch.no_grad():
        layer.linear.weight.copy_(torch.randn(3, 4, generator=gen, dtype=F64))
        layer.att_src.copy_(torch.randn(3, generator=gen, dtype=F64))
        layer.att_dst.copy_(torch.randn(3, generator=gen, dtype=F64))
    layer = layer.to(device)
    edge_index = edges_of(random_graph(gen, 6, p=0.4)).to(device)
    x = torch.randn(6, 4, generator=gen, dtype=F64).to(device)
    with substitute(sub, propagate=dense_product):
        out, alpha = layer(x, edge_index)
    E = edge_index.shape[1]
    ok = bool(out.shape == (6, 3) and alpha.shape == (E + 6,))
    assert ok, (
        "forward returns out (N, F') and alpha (E + N,): one weight per edge and per appended self-loop")
    targets = torch.cat([edge_index[1], torch.arange(6, device=device)])
    sums = torch.zeros(6, dtype=F64, device=device).index_add(0, targets, alpha)
    ok = bool(torch.allclose(sums, torch.ones_like(sums)))
    assert ok, (
        "the attention weights into each target (its incoming edges and its self-loop) must sum to 1")
    observe("out", out)
    observe("alpha", alpha)


# --------------------------------------------------------------------------- pool


@pytest.mark.question("pool")
@pytest.mark.parametrize("reduce", ["mean", "sum", "max"])
def test_global_pool(sub, observe, device, gen, reduce):
    """matches the reference for three graphs whose nodes are interleaved"""
    batch = torch.tensor([0, 1, 0, 2, 1, 1, 2, 0, 2, 2]).to(device)
    x = torch.randn(10, 4, generator=gen, dtype=F64).to(device)
    out = sub.global_pool(x, batch, reduce=reduce)
    ok = bool(isinstance(out, torch.Tensor) and out.shape == (3, 4))
    assert ok, (
        "global_pool must return (B, F) with B = batch.max() + 1")
    observe(reduce, out)


# --------------------------------------------------------------------------- train (GCN, train_step)


class RecorderLayer(nn.Module):
    """Stands in for GCNLayer: records its inputs and returns a simple function of them (not a GCN)."""

    calls = []

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)

    def forward(self, x, adj_norm):
        RecorderLayer.calls.append(x)
        return self.linear(x) - adj_norm.sum(dim=1, keepdim=True)


@pytest.mark.question("train")
def test_gcn_forward(sub, observe, device, gen):
    """GCN calls conv1, ReLU, then conv2 (stand-in layers), with no dropout in eval mode"""
    RecorderLayer.calls = []
    with substitute(sub, GCNLayer=RecorderLayer):
        model = sub.GCN(4, 5, 3, dropout=0.5).double()
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=F64))
        model = model.to(device).eval()
        x = torch.randn(6, 4, generator=gen, dtype=F64).to(device)
        adj = torch.rand(6, 6, generator=gen, dtype=F64).to(device)
        logits = model(x, adj)
    ok = bool(len(RecorderLayer.calls) == 2)
    assert ok, (
        "GCN.forward must call self.conv1 and then self.conv2 once each")
    ok = bool((RecorderLayer.calls[1] >= 0).all())
    assert ok, (
        "the second layer's input must be the ReLU of the first layer's output")
    observe("logits", logits)


class ToyNodeModel(nn.Module):
    """A tiny node classifier standing in for the GCN in train_step's test (not a GCN)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, x, adj_norm):
        return self.lin(x + 0.1 * adj_norm.sum(dim=1, keepdim=True))


@pytest.mark.question("train")
def test_train_step(sub, observe, device, gen):
    """one SGD step on the labelled nodes matches the reference (loss and parameters)"""
    model = ToyNodeModel().double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=F64))
    model = model.to(device)
    x = torch.randn(8, 3, generator=gen, dtype=F64).to(device)
    adj = torch.rand(8, 8, generator=gen, dtype=F64).to(device)
    y = torch.randint(0, 2, (8,), generator=gen).to(device)
    mask = torch.tensor([1, 0, 0, 1, 1, 0, 0, 0], dtype=torch.bool).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss = sub.train_step(model, opt, x, adj, y, mask)
    ok = bool(type(loss) is float)
    assert ok, (
        f"train_step must return loss.item(), a Python float; got {type(loss).__name__}")
    observe("loss", loss)
    for name, p in model.named_parameters():
        observe(f"{name} after the step", p)
