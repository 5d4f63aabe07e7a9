"""Hidden tests of `lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh) -> (h', c')`.

Gates [i | f | g | o] by rows of W_ih (4H, I) and W_hh (4H, H); c' = f*c + i*g, h' = o*tanh(c').
nn.LSTMCell loaded with the same weights is the oracle (values and gradients, several sizes,
float32 and float64). Biases are drawn independently, c is nonzero and large enough to leave
tanh's linear range, so swapped gates, a missing bias or a missing tanh all show.
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("lstm_cell")

helpers = load_helpers(__file__)
F64, SIZES, randn = helpers.F64, helpers.CELL_SIZES, helpers.randn


def setup(gen, N, I, H, dtype=F64, scale=0.6):
    return helpers.cell_case(gen, "lstm_cell", N, I, H, dtype, scale)


def oracle(I, H, weights, dtype):
    return helpers.torch_cell("lstm_cell", I, H, weights, dtype)


def run(sub, device, x, state, weights):
    out = sub.lstm_cell(x.to(device), tuple(s.to(device) for s in state), *[w.to(device) for w in weights])
    assert isinstance(out, tuple) and len(out) == 2, "lstm_cell must return the tuple (h', c')"
    for name, t in zip(["h'", "c'"], out):
        assert isinstance(t, torch.Tensor) and t.shape == state[0].shape, (
            f"{name} must be a tensor of shape (N, H) = {tuple(state[0].shape)}"
        )
    return out


@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_matches_torch(sub, observe, device, gen, size, dtype):
    """matches nn.LSTMCell with the same weights"""
    N, I, H = size
    x, state, weights = setup(gen, N, I, H, dtype)
    h, c = run(sub, device, x, state, weights)
    assert h.dtype == dtype and c.dtype == dtype, f"h' and c' must keep the inputs' dtype {dtype}"
    want_h, want_c = oracle(I, H, weights, dtype)(x, state)
    tol = 1e-10 if dtype == F64 else 1e-5
    assert torch.allclose(c.detach().cpu(), want_c.detach(), atol=tol), (
        "c' differs from nn.LSTMCell's: c' = sigmoid(f) * c + sigmoid(i) * tanh(g), blocks [i | f | g | o] by rows"
    )
    assert torch.allclose(h.detach().cpu(), want_h.detach(), atol=tol), (
        "h' differs from nn.LSTMCell's: h' = sigmoid(o) * tanh(c')"
    )
    observe("h'", h)
    observe("c'", c)


def test_gradients(sub, observe, device, gen):
    """backpropagates like nn.LSTMCell into x, h, c and every weight"""
    helpers.check_cell_gradients(sub, observe, device, gen, "lstm_cell")


def test_forget_gate_keeps_memory(sub, observe, device, gen):
    """with a huge forget bias and a closed input gate, c' equals c"""
    N, I, H = 2, 3, 4
    x, state, weights = setup(gen, N, I, H)
    b_ih = weights[2].clone()
    b_ih[:H] = -60.0  # input gate closed
    b_ih[H : 2 * H] = 60.0  # forget gate open
    h, c = run(sub, device, x, state, [weights[0], weights[1], b_ih, weights[3]])
    kept = bool(torch.allclose(c.cpu(), state[1], atol=1e-12))
    assert kept, (
        "with the forget gate at 1 and the input gate at 0 the cell must keep c unchanged: rows H..2H of the "
        "weights are the forget gate f, rows 0..H the input gate i (order [i | f | g | o])"
    )
    observe("c kept", kept)
    observe("h'", h)


def test_inputs_unchanged(sub, observe, device, gen):
    """does not modify its inputs"""
    x, (h, c), weights = setup(gen, 2, 3, 4)
    args = [t.to(device) for t in [x, h, c, *weights]]
    copies = [t.clone() for t in args]
    out = sub.lstm_cell(args[0], (args[1], args[2]), *args[3:])
    unchanged = all(torch.equal(a, b) for a, b in zip(args, copies))
    assert unchanged, "lstm_cell modified one of its arguments in place"
    observe("inputs unchanged", unchanged)
    observe("h'", out[0])
