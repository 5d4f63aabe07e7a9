"""Hidden tests of `lstm_layer(x, state, W_ih, W_hh, b_ih, b_hh) -> (output, (h_n, c_n))`.

nn.LSTM semantics (one layer, batch_first=False): x (L, N, I), state None (zeros) or (h0, c0)
each (N, H); output (L, N, H) stacks h_1 .. h_L. While these tests run, the name `lstm_cell`
the layer calls is pointed at a trusted cell (the helper module's, checked against
nn.LSTMCell), so a mistake in the lstm_cell question costs points only there. nn.LSTM loaded
with the same weights is the oracle: outputs, final state and gradients.
"""


import pytest
import torch
import torch.nn as nn

from autograder.testing import load_helpers, substitute

helpers = load_helpers(__file__)

pytestmark = pytest.mark.question("lstm_layer")

F64 = torch.float64


def randn(gen, *shape, dtype=F64, scale=1.0):
    return (scale * torch.randn(*shape, generator=gen, dtype=F64)).to(dtype)


def weights_of(gen, I, H, dtype=F64):
    return [randn(gen, 4 * H, I, dtype=dtype, scale=0.6), randn(gen, 4 * H, H, dtype=dtype, scale=0.6),
            randn(gen, 4 * H, dtype=dtype, scale=0.6), randn(gen, 4 * H, dtype=dtype, scale=0.6)]


def oracle(I, H, weights, dtype=F64):
    lstm = nn.LSTM(I, H).to(dtype)
    with torch.no_grad():
        for p, w in zip([lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0], weights):
            p.copy_(w)
    return lstm


def run(sub, x, state, weights):
    with substitute(sub, lstm_cell=helpers.trusted_lstm_cell):
        out = sub.lstm_layer(x, state, *weights)
    assert isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], tuple) and len(out[1]) == 2, (
        "lstm_layer must return (output, (h_n, c_n))"
    )
    output, (h_n, c_n) = out
    L, N = x.shape[:2]
    H = weights[1].shape[1]
    assert tuple(output.shape) == (L, N, H), (
        f"output must have shape (L, N, H) = {(L, N, H)}, got {tuple(output.shape)}"
    )
    for name, t in [("h_n", h_n), ("c_n", c_n)]:
        assert tuple(t.shape) == (N, H), f"{name} must have shape (N, H) = {(N, H)}, got {tuple(t.shape)}"
    return output, h_n, c_n


CASES = {"L1_N1": (1, 1, 3, 4), "L5_N3": (5, 3, 4, 6), "L12_N2": (12, 2, 6, 3)}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
def test_matches_torch(sub, observe, device, gen, case, with_state):
    """matches nn.LSTM: outputs and final (h, c)"""
    L, N, I, H = case
    weights = weights_of(gen, I, H)
    x = randn(gen, L, N, I)
    state = (randn(gen, N, H), randn(gen, N, H, scale=2.0)) if with_state else None
    output, h_n, c_n = run(sub, x.to(device), None if state is None else tuple(s.to(device) for s in state),
                           [w.to(device) for w in weights])
    want, (want_h, want_c) = oracle(I, H, weights)(x, None if state is None else (state[0][None], state[1][None]))
    assert torch.allclose(output.detach().cpu(), want.detach(), atol=1e-10), (
        "output differs from nn.LSTM's: output[t] = h_t, where step t starts from step t-1's (h, c)"
        + (" and step 0 from the given state" if with_state else " and step 0 from zeros")
    )
    assert torch.allclose(h_n.detach().cpu(), want_h[0].detach(), atol=1e-10), "h_n must be h after the last step"
    assert torch.allclose(c_n.detach().cpu(), want_c[0].detach(), atol=1e-10), "c_n must be c after the last step"
    observe("output", output)
    observe("h_n", h_n)
    observe("c_n", c_n)


def test_float32(sub, observe, device, gen):
    """keeps float32 and matches nn.LSTM in float32"""
    L, N, I, H = 6, 2, 3, 5
    weights = weights_of(gen, I, H, dtype=torch.float32)
    x = randn(gen, L, N, I, dtype=torch.float32)
    output, h_n, c_n = run(sub, x.to(device), None, [w.to(device) for w in weights])
    assert output.dtype == torch.float32, f"the output must keep float32, got {output.dtype}"
    want, _ = oracle(I, H, weights, torch.float32)(x)
    assert torch.allclose(output.detach().cpu(), want.detach(), atol=1e-5), "output differs from nn.LSTM's"
    observe("output", output)
    observe("c_n", c_n)


def test_gradients(sub, observe, device, gen):
    """backpropagates like nn.LSTM into x, the initial state and every weight"""
    L, N, I, H = 4, 2, 3, 4
    weights = weights_of(gen, I, H)
    x, h0, c0 = randn(gen, L, N, I), randn(gen, N, H), randn(gen, N, H)
    up_out, up_c = randn(gen, L, N, H), randn(gen, N, H)
    leaves = [t.clone().to(device).requires_grad_(True) for t in [x, h0, c0, *weights]]
    output, h_n, c_n = run(sub, leaves[0], (leaves[1], leaves[2]), leaves[3:])
    ((output * up_out.to(device)).sum() + (c_n * up_c.to(device)).sum()).backward()
    lstm = oracle(I, H, weights)
    ref = [t.clone().requires_grad_(True) for t in [x, h0, c0]]
    out_r, (_, c_r) = lstm(ref[0], (ref[1][None], ref[2][None]))
    ((out_r * up_out).sum() + (c_r[0] * up_c).sum()).backward()
    want = [r.grad for r in ref] + [lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad,
                                    lstm.bias_hh_l0.grad]
    names = ["x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh"]
    for name, leaf, w in zip(names, leaves, want):
        assert leaf.grad is not None, f"no gradient reached {name}: build the output from it without detaching"
        assert torch.allclose(leaf.grad.cpu(), w, atol=1e-10), f"the gradient of {name} differs from nn.LSTM's"
        observe(f"grad {name}", leaf.grad)


def test_causal(sub, observe, device, gen):
    """outputs up to step t do not change when later inputs change"""
    L, N, I, H = 6, 2, 3, 4
    weights = [w.to(device) for w in weights_of(gen, I, H)]
    x = randn(gen, L, N, I)
    x2 = x.clone()
    x2[4:] = randn(gen, 2, N, I)
    out1, _, _ = run(sub, x.to(device), None, weights)
    out2, _, _ = run(sub, x2.to(device), None, weights)
    unchanged = bool(torch.equal(out1[:4], out2[:4]))
    assert unchanged, "changing x[4:] changed output[:4]: step t may only see x[0..t] (run forward in time)"
    observe("earlier outputs unchanged", unchanged)
    observe("output", out2)


def test_state_unchanged(sub, observe, device, gen):
    """does not modify the given state in place"""
    L, N, I, H = 3, 2, 3, 4
    weights = [w.to(device) for w in weights_of(gen, I, H)]
    h0, c0 = randn(gen, N, H).to(device), randn(gen, N, H).to(device)
    copies = (h0.clone(), c0.clone())
    output, _, _ = run(sub, randn(gen, L, N, I).to(device), (h0, c0), weights)
    unchanged = bool(torch.equal(h0, copies[0]) and torch.equal(c0, copies[1]))
    assert unchanged, "lstm_layer modified the initial (h0, c0) in place"
    observe("state unchanged", unchanged)
    observe("output", output)


# One contract: this test runs the checks above on one input each (from zeros and from a given state, gradients into
# the initial state and the weights, causality, the given state left alone) and carries two thirds of the question's
# points, so that a layer wrong in any one regime keeps at most a third; the tests above say which part is wrong.
@pytest.mark.question("lstm_layer", weight=24)
def test_whole_contract(sub, observe, device, gen):
    """from zeros and from a given state, gradients, causality, the given state unchanged"""
    test_matches_torch(sub, observe, device, gen, CASES["L5_N3"], False)
    test_matches_torch(sub, observe, device, gen, CASES["L5_N3"], True)
    test_gradients(sub, observe, device, gen)
    test_causal(sub, observe, device, gen)
    test_state_unchanged(sub, observe, device, gen)
