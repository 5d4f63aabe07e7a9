"""Hidden tests of `gru_cell(x, h, W_ih, W_hh, b_ih, b_hh) -> h'`.

Gates [r | z | n] by rows of W_ih (3H, I) and W_hh (3H, H); n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),
h' = (1 - z)*n + z*h. nn.GRUCell loaded with the same weights is the oracle (values and
gradients, several sizes, float32 and float64). The biases are drawn independently, so the
reset gate applied outside b_hn, a reversed update gate or the original paper's r*h all show.
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("gru_cell")

helpers = load_helpers(__file__)
F64, SIZES, randn = helpers.F64, helpers.CELL_SIZES, helpers.randn


def setup(gen, N, I, H, dtype=F64, scale=0.6):
    return helpers.cell_case(gen, "gru_cell", N, I, H, dtype, scale)


def oracle(I, H, weights, dtype):
    return helpers.torch_cell("gru_cell", I, H, weights, dtype)


def run(sub, device, x, h, weights):
    out = sub.gru_cell(x.to(device), h.to(device), *[w.to(device) for w in weights])
    assert isinstance(out, torch.Tensor), f"gru_cell must return the tensor h', got {type(out).__name__}"
    assert out.shape == h.shape, f"h' must have h's shape (N, H) = {tuple(h.shape)}, got {tuple(out.shape)}"
    return out


@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_matches_torch(sub, observe, device, gen, size, dtype):
    """matches nn.GRUCell with the same weights"""
    N, I, H = size
    x, h, weights = setup(gen, N, I, H, dtype)
    out = run(sub, device, x, h, weights)
    assert out.dtype == dtype, f"h' must keep the inputs' dtype {dtype}, got {out.dtype}"
    want = oracle(I, H, weights, dtype)(x, h)
    tol = 1e-10 if dtype == F64 else 1e-5
    assert torch.allclose(out.detach().cpu(), want.detach(), atol=tol), (
        "gru_cell differs from nn.GRUCell: r and z from both projections, n = tanh(W_in x + b_in + r * (W_hn h + "
        "b_hn)) (the reset gate multiplies the hidden projection WITH its bias), h' = (1 - z) * n + z * h"
    )
    observe("h'", out)


def test_gradients(sub, observe, device, gen):
    """backpropagates like nn.GRUCell into x, h and every weight"""
    helpers.check_cell_gradients(sub, observe, device, gen, "gru_cell")


@pytest.mark.parametrize("z_bias", [60.0, -60.0], ids=["z_one", "z_zero"])
def test_update_gate(sub, observe, device, gen, z_bias):
    """z = 1 keeps the old state; z = 0 gives the candidate n"""
    N, I, H = 2, 3, 4
    x, h, weights = setup(gen, N, I, H)
    b_ih = weights[2].clone()
    b_ih[H : 2 * H] = z_bias
    out = run(sub, device, x, h, [weights[0], weights[1], b_ih, weights[3]])
    if z_bias > 0:
        kept = bool(torch.allclose(out.cpu(), h, atol=1e-12))
        assert kept, "with the update gate z = 1 (rows H..2H) the GRU must return h unchanged: h' = (1 - z) n + z h"
        observe("z = 1 keeps h", kept)
    observe("h'", out)
