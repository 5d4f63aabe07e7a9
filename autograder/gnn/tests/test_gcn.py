"""Hidden tests of `GCNLayer(in_features, out_features, bias=True)`: forward(x, adj_norm) =
adj_norm @ linear(x) + bias, no activation; `linear` is nn.Linear(in, out, bias=False) and `bias` is a
(out,) parameter or None.

Weights are loaded through the documented names (linear.weight, bias). Oracle: the per-node sum
out_i = sum_j adj_norm[i, j] (W x_j) + b in float64. adj_norm is mostly NOT symmetric (so a transpose
shows); invariants: adj_norm = I gives the linear map, permutation equivariance with a normalised
adjacency.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

H = load_helpers(__file__)
pytestmark = pytest.mark.question("gcn")

F64 = torch.float64


def make_layer(sub, gen, fin, fout, bias, device, dtype=F64):
    layer = sub.GCNLayer(fin, fout, bias=bias)
    params = dict(layer.named_parameters())
    ok = bool("linear.weight" in params and tuple(params["linear.weight"].shape) == (fout, fin))
    assert ok, (
        f"GCNLayer must keep the skeleton's self.linear = nn.Linear({fin}, {fout}, bias=False); it has "
        f"{sorted(params)}")
    ok = bool(("bias" in params) == bias and len(params) == 1 + bias)
    assert ok, (
        f"GCNLayer(bias={bias}) must have the parameters linear.weight{' and bias' if bias else ''} only; "
        f"it has {sorted(params)}")
    weights = {"linear.weight": torch.randn(fout, fin, generator=gen, dtype=F64)}
    if bias:
        weights["bias"] = torch.randn(fout, generator=gen, dtype=F64)
    layer = layer.to(dtype)
    with torch.no_grad():
        for name, w in weights.items():
            dict(layer.named_parameters())[name].copy_(w.to(dtype))
    return layer.to(device), weights


def oracle(x, adj, weights):
    h = x.cpu().to(F64) @ weights["linear.weight"].T  # (N, F')
    adj = adj.cpu().to(F64)
    out = torch.stack([(adj[i].unsqueeze(1) * h).sum(0) for i in range(adj.shape[0])])
    return out + weights["bias"] if "bias" in weights else out


def call(layer, x, adj, fout):
    out = layer(x, adj)
    ok = bool(isinstance(out, torch.Tensor) and out.shape == (x.shape[0], fout))
    assert ok, (
        f"GCNLayer.forward must return (N, out_features) = {(x.shape[0], fout)}; got {H.describe(out)}")
    return out


@pytest.mark.parametrize("n,fin,fout,bias", [(1, 3, 2, True), (5, 4, 3, True), (9, 2, 6, True), (12, 5, 5, False),
                                             (7, 3, 4, False)])
def test_forward(sub, observe, device, gen, n, fin, fout, bias):
    """equals adj_norm @ (x W^T) + b for a general (not symmetric) adj_norm"""
    layer, weights = make_layer(sub, gen, fin, fout, bias, device)
    x = torch.randn(n, fin, generator=gen, dtype=F64)
    adj = torch.rand(n, n, generator=gen, dtype=F64) * (torch.rand(n, n, generator=gen) < 0.6)
    out = call(layer, x.to(device), adj.to(device), fout)
    expect_close(
        out.detach().cpu(), oracle(x, adj, weights),
        "GCNLayer: out_i = sum_j adj_norm[i, j] (W x_j) + b: multiply by adj_norm itself (row i = what node i "
        "receives; no transpose, no extra self-loop), add the bias once AFTER the propagation, no activation",
        rtol=1e-10, atol=1e-12)
    observe("out", out)


def test_normalised_graph(sub, observe, device, gen):
    """equals the oracle with a GCN-normalised adjacency of a graph with an isolated node"""
    layer, weights = make_layer(sub, gen, 4, 3, True, device)
    adj = H.random_adj(gen, 10, p=0.3, isolated=(6,)) + torch.eye(10, dtype=F64)
    d = adj.sum(1).rsqrt()
    adj_norm = d[:, None] * adj * d[None, :]
    x = torch.randn(10, 4, generator=gen, dtype=F64)
    out = call(layer, x.to(device), adj_norm.to(device), 3)
    expect_close(out.detach().cpu(), oracle(x, adj_norm, weights),
                 "GCNLayer with D^-1/2 (A + I) D^-1/2: out = adj_norm @ (x W^T) + b", rtol=1e-10, atol=1e-12)
    observe("out", out)


def test_identity_is_linear(sub, observe, device, gen):
    """with adj_norm = I the layer is its linear map plus the bias (an MLP layer)"""
    layer, weights = make_layer(sub, gen, 3, 4, True, device)
    x = torch.randn(6, 3, generator=gen, dtype=F64)
    out = call(layer, x.to(device), torch.eye(6, dtype=F64).to(device), 4)
    expect_close(out.detach().cpu(), x @ weights["linear.weight"].T + weights["bias"],
                 "with adj_norm = I, GCNLayer(x) must equal x W^T + b (no activation inside the layer)",
                 rtol=1e-10, atol=1e-12)
    observe("out", out)


def test_permutation_equivariant(sub, observe, device, gen):
    """renumbering the nodes of x and adj_norm renumbers the output rows"""
    layer, _ = make_layer(sub, gen, 4, 3, True, device)
    adj = torch.rand(8, 8, generator=gen, dtype=F64)
    x = torch.randn(8, 4, generator=gen, dtype=F64)
    perm, _ = H.permutation(gen, 8)
    out = call(layer, x.to(device), adj.to(device), 3).detach().cpu()
    permuted = call(layer, x[perm].to(device), adj[perm][:, perm].to(device), 3).detach().cpu()
    expect_close(permuted, out[perm], "GCNLayer(P x, P adj P^T) must equal P GCNLayer(x, adj)",
                 rtol=1e-10, atol=1e-12)
    observe("out", out)


def test_gradients(sub, observe, device, gen):
    """every parameter and x get the reference's gradient (random upstream gradient)"""
    layer, _ = make_layer(sub, gen, 4, 3, True, device)
    x = torch.randn(7, 4, generator=gen, dtype=F64).to(device).requires_grad_(True)
    adj = torch.rand(7, 7, generator=gen, dtype=F64).to(device)
    upstream = torch.randn(7, 3, generator=gen, dtype=F64).to(device)
    (call(layer, x, adj, 3) * upstream).sum().backward()
    observe("x.grad", x.grad)
    for name, p in layer.named_parameters():
        ok = bool(p.grad is not None)
        assert ok, (
            f"GCNLayer.{name} got no gradient: forward must use it")
        observe(f"{name}.grad", p.grad)


def test_float32(sub, observe, device, gen):
    """runs in float32 (the default dtype of the layer)"""
    layer, _ = make_layer(sub, gen, 5, 3, True, device, dtype=torch.float32)
    x = torch.randn(9, 5, generator=gen).to(device)
    adj = torch.rand(9, 9, generator=gen).to(device)
    out = call(layer, x, adj, 3)
    ok = bool(out.dtype == torch.float32)
    assert ok, (
        f"a float32 layer on float32 inputs must return float32, got {out.dtype}")
    observe("out (float32)", out, rtol=1e-5, atol=1e-5)
