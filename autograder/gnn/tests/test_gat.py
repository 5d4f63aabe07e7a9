"""Hidden tests of `GATLayer(in_features, out_features, negative_slope=0.2)`: forward(x, edge_index) ->
(out, alpha). Self-loops are appended after the given edges (one per node, in node order); h = linear(x);
e = LeakyReLU(att_src . h_j + att_dst . h_i) for each edge j -> i; alpha = softmax of e over the
incoming edges of each target; out_i = sum_j alpha_ij h_j.

Weights are loaded through the documented names (linear.weight, att_src, att_dst). The name
`propagate` is pointed at a trusted dense stand-in, so these tests depend on the layer alone. Oracle:
node by node, the dense attention over the node's in-neighbours and itself, in float64 (no scatter).
Also: per-target normalisation, numerical stability for scores in the thousands, the negative slope,
gradients and permutation equivariance.
"""

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import expect_close, load_helpers, substitute

H = load_helpers(__file__)
pytestmark = pytest.mark.question("gat")

F64 = torch.float64


def make_layer(sub, gen, fin, fout, device, slope=0.2, scale=1.0, dtype=F64):
    layer = sub.GATLayer(fin, fout, negative_slope=slope)
    params = dict(layer.named_parameters())
    shapes = {"linear.weight": (fout, fin), "att_src": (fout,), "att_dst": (fout,)}
    for name, shape in shapes.items():
        ok = bool(name in params and tuple(params[name].shape) == shape)
        assert ok, (
            f"GATLayer must keep the skeleton's parameter {name} of shape {shape}; it has "
            f"{ {n: tuple(p.shape) for n, p in params.items()} }")
    weights = {n: scale * torch.randn(s, generator=gen, dtype=F64) for n, s in shapes.items()}
    layer = layer.to(dtype)
    with torch.no_grad():
        for name, w in weights.items():
            dict(layer.named_parameters())[name].copy_(w.to(dtype))
    return layer.to(device), weights


def oracle(x, edge_index, weights, slope):
    """(out, alpha) node by node: each target's scores over its in-neighbours and itself, softmaxed densely."""
    x = x.detach().cpu().to(F64)
    h = x @ weights["linear.weight"].T  # (N, F')
    n, src, dst = x.shape[0], edge_index[0].cpu().tolist(), edge_index[1].cpu().tolist()
    src, dst = src + list(range(n)), dst + list(range(n))  # self-loops after the edges
    alpha = torch.zeros(len(src), dtype=F64)
    out = torch.zeros_like(h)
    for i in range(n):
        into = [e for e in range(len(src)) if dst[e] == i]
        scores = torch.stack([F.leaky_relu(weights["att_src"] @ h[src[e]] + weights["att_dst"] @ h[i], slope)
                              for e in into])
        a = torch.softmax(scores, dim=0)
        alpha[into] = a
        out[i] = (a.unsqueeze(1) * h[[src[e] for e in into]]).sum(0)
    return out, alpha


def call(sub, layer, x, edge_index, fout):
    with substitute(sub, propagate=H.trusted_propagate):
        result = layer(x, edge_index)
    ok = bool(isinstance(result, tuple) and len(result) == 2)
    assert ok, (
        "GATLayer.forward must return the pair (out, alpha)")
    out, alpha = result
    n, e = x.shape[0], edge_index.shape[1]
    ok = bool(isinstance(out, torch.Tensor) and out.shape == (n, fout))
    assert ok, (
        f"out must be (N, out_features) = {(n, fout)}; got {H.describe(out)}")
    ok = bool(isinstance(alpha, torch.Tensor) and alpha.shape == (e + n,))
    assert ok, (
        f"alpha must have E + N = {e} + {n} entries (the given edges, then one self-loop per node); got "
        f"{H.describe(alpha)}")
    ok = bool(torch.isfinite(out).all() and torch.isfinite(alpha).all())
    assert ok, (
        "GATLayer gave nan or inf: subtract each target's largest score before exponentiating")
    return out, alpha


def check(sub, observe, layer, weights, x, edge_index, fout, slope, what, rtol=1e-9, atol=1e-11):
    out, alpha = call(sub, layer, x, edge_index, fout)
    want_out, want_alpha = oracle(x, edge_index, weights, slope)
    expect_close(
        alpha.detach().cpu().to(F64), want_alpha,
        f"alpha ({what}): for each edge j -> i, in the order of edge_index followed by the self-loops (0, 0), "
        "(1, 1), ..., the softmax of LeakyReLU(att_src . h_j + att_dst . h_i) over the edges INTO i (its "
        "self-loop included)", rtol=rtol, atol=atol, name="alpha")
    expect_close(
        out.detach().cpu().to(F64), want_out,
        f"out ({what}): out_i = sum over the edges j -> i (and the self-loop) of alpha_ij h_j, h = linear(x)",
        rtol=rtol, atol=atol, name="out")
    observe("out", out)
    observe("alpha", alpha)


@pytest.mark.parametrize("n,p,symmetric", [(1, 0.0, True), (3, 1.0, True), (8, 0.4, True), (14, 0.25, False),
                                           (20, 0.15, True)])
def test_matches_oracle(sub, observe, device, gen, n, p, symmetric):
    """equals the node-by-node dense attention (edges in a shuffled order, some nodes without edges)"""
    layer, weights = make_layer(sub, gen, 4, 3, device)
    adj = H.random_adj(gen, n, p=p, symmetric=symmetric, isolated=(n - 1,) if n > 3 else ())
    edge_index = H.edges_of(adj, gen).to(device)
    x = torch.randn(n, 4, generator=gen, dtype=F64).to(device)
    check(sub, observe, layer, weights, x, edge_index, 3, 0.2, f"{n} nodes")


@pytest.mark.parametrize("slope", [0.5, 0.05])
def test_negative_slope(sub, observe, device, gen, slope):
    """uses the layer's negative_slope in the LeakyReLU"""
    layer, weights = make_layer(sub, gen, 3, 4, device, slope=slope)
    adj = H.random_adj(gen, 10, p=0.4)
    edge_index = H.edges_of(adj, gen).to(device)
    x = torch.randn(10, 3, generator=gen, dtype=F64).to(device)
    check(sub, observe, layer, weights, x, edge_index, 4, slope, f"negative_slope={slope}")


def test_large_scores(sub, observe, device, gen):
    """stays finite and exact when the scores are in the thousands (stable softmax per target)"""
    layer, weights = make_layer(sub, gen, 3, 3, device, scale=12.0)
    adj = H.random_adj(gen, 9, p=0.5, isolated=(2,))
    edge_index = H.edges_of(adj, gen).to(device)
    x = (10 * torch.randn(9, 3, generator=gen, dtype=F64)).to(device)
    check(sub, observe, layer, weights, x, edge_index, 3, 0.2, "scores in the thousands")


def test_node_without_neighbours(sub, observe, device, gen):
    """a node that receives no edge attends only to itself: alpha 1 and out_i = h_i"""
    layer, weights = make_layer(sub, gen, 4, 2, device)
    edge_index = torch.tensor([[1, 2, 0, 3], [0, 0, 2, 2]]).to(device)  # nodes 1 and 3 receive nothing
    x = torch.randn(4, 4, generator=gen, dtype=F64).to(device)
    out, alpha = call(sub, layer, x, edge_index, 2)
    h = x.cpu() @ weights["linear.weight"].T
    ok = bool(torch.allclose(alpha[[5, 7]].cpu(), torch.ones(2, dtype=F64))
              and torch.allclose(out[[1, 3]].cpu(), h[[1, 3]]))
    assert ok, (
        "nodes 1 and 3 receive no edge: their self-loops (entries E + 1 and E + 3 of alpha) must get weight 1 and "
        "their output must be their own h = linear(x)")
    check(sub, observe, layer, weights, x, edge_index, 2, 0.2, "nodes without in-neighbours")


def test_permutation_equivariant(sub, observe, device, gen):
    """renumbering the nodes renumbers out, and alpha follows its edges"""
    layer, _ = make_layer(sub, gen, 3, 3, device)
    adj = H.random_adj(gen, 10, p=0.35, symmetric=False)
    edge_index = H.edges_of(adj, gen)
    x = torch.randn(10, 3, generator=gen, dtype=F64)
    perm, inverse = H.permutation(gen, 10)
    out, alpha = call(sub, layer, x.to(device), edge_index.to(device), 3)
    out_p, alpha_p = call(sub, layer, x[perm].to(device), inverse[edge_index].to(device), 3)
    E = edge_index.shape[1]
    expect_close(out_p.detach().cpu(), out.detach().cpu()[perm],
                 "GATLayer(P x, permuted edges) must equal P GATLayer(x, edges)", rtol=1e-10, atol=1e-12)
    expect_close(alpha_p[:E].detach().cpu(), alpha[:E].detach().cpu(),
                 "renumbering the nodes must not change the attention weight of each edge", rtol=1e-10, atol=1e-12)
    observe("out", out)
    observe("alpha", alpha)


def test_gradients(sub, observe, device, gen):
    """every parameter and x get the reference's gradient (random upstream gradients on out and alpha)"""
    layer, _ = make_layer(sub, gen, 4, 3, device)
    adj = H.random_adj(gen, 8, p=0.4)
    edge_index = H.edges_of(adj, gen).to(device)
    x = torch.randn(8, 4, generator=gen, dtype=F64).to(device).requires_grad_(True)
    out, alpha = call(sub, layer, x, edge_index, 3)
    g_out = torch.randn(out.shape, generator=gen, dtype=F64).to(device)
    g_alpha = torch.randn(alpha.shape, generator=gen, dtype=F64).to(device)
    ((out * g_out).sum() + (alpha * g_alpha).sum()).backward()
    observe("x.grad", x.grad)
    for name, p in layer.named_parameters():
        ok = bool(p.grad is not None)
        assert ok, (
            f"GATLayer.{name} got no gradient: forward must use it")
        observe(f"{name}.grad", p.grad)


def test_float32(sub, observe, device, gen):
    """runs in float32 (the default dtype of the layer)"""
    layer, _ = make_layer(sub, gen, 5, 4, device, dtype=torch.float32)
    adj = H.random_adj(gen, 12, p=0.3)
    edge_index = H.edges_of(adj, gen).to(device)
    out, alpha = call(sub, layer, torch.randn(12, 5, generator=gen).to(device), edge_index, 4)
    ok = bool(out.dtype == torch.float32 and alpha.dtype == torch.float32)
    assert ok, (
        f"a float32 layer on float32 inputs must return float32 out and alpha, got {out.dtype} and {alpha.dtype}")
    observe("out (float32)", out, rtol=1e-4, atol=1e-5)
    observe("alpha (float32)", alpha, rtol=1e-4, atol=1e-5)
