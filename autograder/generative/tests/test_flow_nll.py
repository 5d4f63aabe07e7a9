"""Hidden tests of `flow_nll(flow_layers, x)`: the mean of -(log N(f(x); 0, I) + sum of log-dets).

The layers are the tests' own (affine couplings written as loops, and elementwise affine maps), so
these tests depend on flow_nll alone. Oracle: torch.distributions.Normal's log_prob. Layer order
matters (couplings do not commute), no layers, dimension 1, a batch of one, gradients.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

pytestmark = pytest.mark.question("flow_nll")

helpers = load_helpers(__file__)
F64, Shift, trusted_flow = helpers.F64, helpers.Shift, helpers.trusted_flow


def oracle(layers, x):
    z, total = x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for layer in layers:
        z, ld = layer(z)
        total = total + ld
    return -(torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1) + total).mean()


def call(sub, layers, x):
    out = sub.flow_nll(layers, x)
    ok = bool(isinstance(out, torch.Tensor) and out.dim() == 0)
    assert ok, (
        "flow_nll returns a 0-d tensor (the batch mean)")
    return out


@pytest.mark.parametrize("D,n_layers,N", [(2, 3, 9), (5, 4, 6), (3, 1, 1)])
def test_matches_change_of_variables(sub, observe, device, gen, D, n_layers, N):
    """matches -mean(log N(z; 0, I) + sum of log-dets) through couplings whose log-det varies by sample"""
    layers = [layer.to(device) for layer in trusted_flow(gen, D, n_layers)]
    x = torch.randn(N, D, generator=gen, dtype=F64).to(device)
    with torch.no_grad():
        nll = call(sub, layers, x)
        expect_close(nll, oracle(layers, x),
                     "-log p(x) = 0.5 ||z||^2 + (D / 2) log(2 pi) - sum of the layers' log-dets, z the output of the "
                     "layers applied in order; then the batch mean", rtol=1e-9, atol=1e-10, name="nll")
    observe("nll", nll)


def test_no_layers_and_dimension_one(sub, observe, gen):
    """with no layers it is the standard normal NLL, in any dimension"""
    for D in (1, 4):
        x = 2 * torch.randn(5, D, generator=gen, dtype=F64)
        nll = call(sub, [], x)
        expect_close(nll, oracle([], x), f"with no layers flow_nll is the NLL of N(0, I) in dimension {D}",
                     rtol=1e-9, atol=1e-10, name=f"nll (D = {D})")
        observe(f"nll (D = {D})", nll)


def test_elementwise_layers(sub, observe, gen):
    """elementwise affine layers: the log-dets add up (same value for every sample)"""
    layers = [Shift(0.5 * torch.randn(3, generator=gen, dtype=F64), torch.randn(3, generator=gen, dtype=F64))
              for _ in range(3)]
    x = torch.randn(8, 3, generator=gen, dtype=F64)
    nll = call(sub, layers, x)
    expect_close(nll, oracle(layers, x), "log p(x) adds every layer's log-det to log N(f(x); 0, I)",
                 rtol=1e-9, atol=1e-10, name="nll")
    observe("nll", nll)


def test_gradients(sub, observe, gen):
    """gradients reach every layer's parameters"""
    layers = trusted_flow(gen, 2, 2)
    x = torch.randn(6, 2, generator=gen, dtype=F64)
    call(sub, layers, x).backward()
    for k, layer in enumerate(layers):
        for name, p in sorted(layer.named_parameters()):
            ok = bool(p.grad is not None)
            assert ok, (
                f"layer {k}'s {name} got no gradient")
        observe(f"layer {k} net.0.weight.grad", layer.net[0].weight.grad)
