"""Hidden tests of `rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh) -> h'`.

h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh); x (N, I), h (N, H), W_ih (H, I), W_hh (H, H),
biases (H,). nn.RNNCell loaded with the same weights is the oracle: values and gradients,
several sizes (I != H, so a missing transpose shows), float32 and float64. The two biases are
drawn independently, so using only one of them fails.
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("rnn_cell")

helpers = load_helpers(__file__)
F64, SIZES, randn = helpers.F64, helpers.CELL_SIZES, helpers.randn


def setup(gen, N, I, H, dtype=F64, scale=0.6):
    return helpers.cell_case(gen, "rnn_cell", N, I, H, dtype, scale)


def oracle(I, H, weights, dtype):
    return helpers.torch_cell("rnn_cell", I, H, weights, dtype)


def run(sub, device, x, h, weights):
    out = sub.rnn_cell(x.to(device), h.to(device), *[w.to(device) for w in weights])
    assert isinstance(out, torch.Tensor), f"rnn_cell must return the tensor h', got {type(out).__name__}"
    assert out.shape == h.shape, f"h' must have h's shape (N, H) = {tuple(h.shape)}, got {tuple(out.shape)}"
    return out


@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_matches_torch(sub, observe, device, gen, size, dtype):
    """matches nn.RNNCell with the same weights"""
    N, I, H = size
    x, h, weights = setup(gen, N, I, H, dtype)
    out = run(sub, device, x, h, weights)
    assert out.dtype == dtype, f"h' must keep the inputs' dtype {dtype}, got {out.dtype}"
    want = oracle(I, H, weights, dtype)(x, h)
    tol = 1e-10 if dtype == F64 else 1e-5
    assert torch.allclose(out.detach().cpu(), want.detach(), atol=tol), (
        "rnn_cell differs from nn.RNNCell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), both biases added"
    )
    observe("h'", out)


def test_gradients(sub, observe, device, gen):
    """backpropagates like nn.RNNCell into x, h and every weight"""
    helpers.check_cell_gradients(sub, observe, device, gen, "rnn_cell")


def test_saturates(sub, observe, device, gen):
    """stays in (-1, 1) and matches nn.RNNCell for large pre-activations"""
    N, I, H = 4, 3, 6
    x, h, weights = setup(gen, N, I, H, scale=4.0)
    out = run(sub, device, x * 5, h, weights)
    assert out.abs().max() <= 1, "h' = tanh(...) lies in [-1, 1]"
    observe("h'", out)


def test_inputs_unchanged(sub, observe, device, gen):
    """does not modify its inputs"""
    x, h, weights = setup(gen, 2, 3, 4)
    copies = [t.clone() for t in [x, h, *weights]]
    args = [t.to(device) for t in [x, h, *weights]]
    out = sub.rnn_cell(*args)
    unchanged = all(torch.equal(a.cpu(), c) for a, c in zip(args, copies))
    assert unchanged, "rnn_cell modified one of its arguments in place"
    observe("inputs unchanged", unchanged)
    observe("h'", out)
