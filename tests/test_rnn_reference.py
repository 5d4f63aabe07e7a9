"""The rnn reference solution against independent oracles.

The graded cells of solutions/rnn/rnn.py are checked against PyTorch's own modules with copied
weights (nn.RNNCell, nn.LSTMCell, nn.GRUCell, nn.LSTM: values and gradients, several sizes,
float32 and float64), against torch.nn.utils.clip_grad_norm_ (gradients of None, a single
parameter, totals below and above max_norm), and truncated BPTT against a hand-unrolled loop
and the invariant that carrying the state equals one long forward. The trusted stand-ins of the
hidden tests (autograder/rnn/tests/_helpers.py) are checked here too: the hidden tests inherit
these facts when they compare students to the reference.
"""

from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.collect import load_test_module
from autograder.notebook import reference_module
from autograder.testing import substitute

ref = reference_module("rnn")
helpers = load_test_module(Path(__file__).parents[1] / "autograder" / "rnn" / "tests" / "_helpers.py",
                           "rnn_reference_helpers")

F64 = torch.float64
SIZES = [(1, 3, 3), (4, 5, 7), (8, 2, 16)]
DTYPES = {"float32": (torch.float32, dict(rtol=1e-5, atol=1e-6)), "float64": (F64, dict(rtol=1e-12, atol=1e-12))}


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(*shape, g, dtype=F64, scale=1.0):
    return (scale * torch.randn(*shape, generator=g, dtype=F64)).to(dtype)


def module_weights(m, suffix=""):
    return [getattr(m, f"{n}{suffix}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def check_cell(module_cls, ours, G, size, dtype, tol, stateful=False, seed=0):
    """Values and gradients of `ours` against `module_cls` with the same (random) weights."""
    N, I, H = size
    g = gen(seed)
    torch.manual_seed(seed)
    m = module_cls(I, H).to(dtype)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(randn(*p.shape, g=g, dtype=dtype, scale=0.7))
    x = randn(N, I, g=g, dtype=dtype).requires_grad_(True)
    h = randn(N, H, g=g, dtype=dtype).requires_grad_(True)
    c = randn(N, H, g=g, dtype=dtype, scale=2.0).requires_grad_(True)
    up = [randn(N, H, g=g, dtype=dtype) for _ in range(2)]

    def loss(outs):
        outs = outs if isinstance(outs, tuple) else (outs,)
        return sum((o * u).sum() for o, u in zip(outs, up))

    want = m(x, (h, c)) if stateful else m(x, h)
    grads_want = torch.autograd.grad(loss(want), [x, h, *m.parameters()] + ([c] if stateful else []))
    weights = [w.detach().clone().requires_grad_(True) for w in module_weights(m)]
    got = ours(x, (h, c), *weights) if stateful else ours(x, h, *weights)
    grads_got = torch.autograd.grad(loss(got), [x, h, *weights] + ([c] if stateful else []))
    for a, b in zip(got if stateful else (got,), want if stateful else (want,)):
        torch.testing.assert_close(a, b, **tol)
    for a, b in zip(grads_got, grads_want):
        torch.testing.assert_close(a, b, **tol)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=list(DTYPES))
@pytest.mark.parametrize("size", SIZES)
def test_rnn_cell_equals_torch(size, dtype):
    check_cell(nn.RNNCell, ref.rnn_cell, 1, size, *DTYPES[dtype])


@pytest.mark.parametrize("dtype", list(DTYPES), ids=list(DTYPES))
@pytest.mark.parametrize("size", SIZES)
def test_lstm_cell_equals_torch(size, dtype):
    check_cell(nn.LSTMCell, ref.lstm_cell, 4, size, *DTYPES[dtype], stateful=True)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=list(DTYPES))
@pytest.mark.parametrize("size", SIZES)
def test_gru_cell_equals_torch(size, dtype):
    check_cell(nn.GRUCell, ref.gru_cell, 3, size, *DTYPES[dtype])


@pytest.mark.parametrize("size", SIZES)
def test_trusted_lstm_cell_equals_torch(size):
    """The stand-in the lstm_layer hidden tests substitute for the student's cell."""
    check_cell(nn.LSTMCell, helpers.trusted_lstm_cell, 4, size, *DTYPES["float64"], stateful=True)


def test_gru_reset_gate_multiplies_hidden_bias():
    """nn.GRUCell's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), not the paper's W_hn (r * h)."""
    g = gen(3)
    m = nn.GRUCell(3, 4).double()
    x, h = randn(2, 3, g=g), randn(2, 4, g=g)
    W_ih, W_hh, b_ih, b_hh = module_weights(m)
    r = torch.sigmoid(x @ W_ih[:4].T + b_ih[:4] + h @ W_hh[:4].T + b_hh[:4])
    z = torch.sigmoid(x @ W_ih[4:8].T + b_ih[4:8] + h @ W_hh[4:8].T + b_hh[4:8])
    n = torch.tanh(x @ W_ih[8:].T + b_ih[8:] + r * (h @ W_hh[8:].T + b_hh[8:]))
    torch.testing.assert_close(m(x, h), (1 - z) * n + z * h, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ref.gru_cell(x, h, W_ih, W_hh, b_ih, b_hh), m(x, h), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=list(DTYPES))
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("L,N,I,H", [(1, 1, 2, 3), (7, 3, 4, 5), (20, 2, 3, 8)])
def test_lstm_layer_equals_nn_lstm(L, N, I, H, with_state, dtype):
    dtype, tol = DTYPES[dtype]
    g = gen(L + N)
    lstm = nn.LSTM(I, H).to(dtype)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(randn(*p.shape, g=g, dtype=dtype, scale=0.7))
    x = randn(L, N, I, g=g, dtype=dtype).requires_grad_(True)
    state = (randn(N, H, g=g, dtype=dtype), randn(N, H, g=g, dtype=dtype)) if with_state else None
    want, (h_w, c_w) = lstm(x, None if state is None else (state[0][None], state[1][None]))
    weights = [w.detach().clone().requires_grad_(True) for w in module_weights(lstm, "_l0")]
    out, (h_n, c_n) = ref.lstm_layer(x, state, *weights)
    torch.testing.assert_close(out, want, **tol)
    torch.testing.assert_close(h_n, h_w[0], **tol)
    torch.testing.assert_close(c_n, c_w[0], **tol)
    up = randn(L, N, H, g=g, dtype=dtype)
    g_want = torch.autograd.grad((want * up).sum(), [x, *lstm.parameters()])
    g_got = torch.autograd.grad((out * up).sum(), [x, *weights])
    for a, b in zip(g_got, g_want):
        torch.testing.assert_close(a, b, **tol)


def test_lstm_layer_with_trusted_cell_equals_own_cell():
    """Substituting the hidden tests' trusted cell does not change the layer's output."""
    g = gen(5)
    x = randn(6, 2, 3, g=g)
    weights = [randn(16, 3, g=g), randn(16, 4, g=g), randn(16, g=g), randn(16, g=g)]
    own, _ = ref.lstm_layer(x, None, *weights)
    with substitute(ref, lstm_cell=helpers.trusted_lstm_cell):
        trusted, _ = ref.lstm_layer(x, None, *weights)
    torch.testing.assert_close(own, trusted, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------------------ clipping


def grads_pair(shapes, g, scale=1.0, none=(), dtype=F64):
    ours, theirs = [], []
    for i, s in enumerate(shapes):
        grad = None if i in none else randn(*s, g=g, dtype=dtype, scale=scale)
        for group in (ours, theirs):
            p = torch.zeros(s, dtype=dtype, requires_grad=True)
            p.grad = None if grad is None else grad.clone()
            group.append(p)
    return ours, theirs


@pytest.mark.parametrize("case", ["above", "below", "single", "with_none", "float32"])
def test_clip_grad_norm_equals_torch(case):
    shapes = [(3, 4), (5,), (2, 2, 2)]
    kwargs = {"above": dict(scale=3.0), "below": dict(scale=1e-3), "single": dict(scale=5.0),
              "with_none": dict(none=(1,)), "float32": dict(dtype=torch.float32, scale=2.0)}[case]
    if case == "single":
        shapes = shapes[:1]
    ours, theirs = grads_pair(shapes, gen(7), **kwargs)
    total = ref.clip_grad_norm(ours, 1.0)
    want = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.dtype == want.dtype
    torch.testing.assert_close(total, want)
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            torch.testing.assert_close(p.grad, q.grad)
    if case == "below":
        assert total < 1.0


def test_clip_grad_norm_no_gradients():
    p = torch.zeros(3, requires_grad=True)
    assert float(ref.clip_grad_norm([p], 1.0)) == 0.0 == float(torch.nn.utils.clip_grad_norm_([p], 1.0))


# ------------------------------------------------------------------------------------------ character model


def test_char_model_equals_functional_oracle():
    torch.manual_seed(0)
    model = ref.CharLSTM(11, 5, 7, num_layers=2).double()
    idx = torch.randint(0, 11, (3, 9), generator=gen(1))
    logits, (h, c) = model(idx)
    out, (h_w, c_w) = model.lstm(F.embedding(idx, model.embed.weight))
    torch.testing.assert_close(logits, model.head(out), rtol=0, atol=0)
    torch.testing.assert_close(h, h_w)
    # carrying the state: two halves equal one pass
    first, state = model(idx[:, :4])
    second, _ = model(idx[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), logits, rtol=1e-12, atol=1e-12)


def test_sample_greedy_equals_full_recompute():
    torch.manual_seed(1)
    model = ref.CharLSTM(9, 4, 8).double()
    prefix = torch.randint(0, 9, (2, 3), generator=gen(2))
    out = ref.sample(model, prefix, 7, temperature=0)
    for t in range(3, 10):
        logits, _ = model(out[:, :t])
        assert torch.equal(out[:, t], logits[:, -1].argmax(-1))


def test_sample_draws_from_softmax_over_temperature():
    """Empirical frequencies of one sampling step match softmax(logits / T)."""
    torch.manual_seed(2)
    model = ref.CharLSTM(5, 4, 6)
    prefix = torch.zeros(4000, 1, dtype=torch.long)
    out = ref.sample(model, prefix, 1, temperature=0.7, generator=gen(3))
    with torch.no_grad():
        probs = torch.softmax(model(prefix[:1])[0][0, -1] / 0.7, -1)
    freq = torch.bincount(out[:, 1], minlength=5).double() / 4000
    assert (freq - probs.double()).abs().max() < 0.03


# ------------------------------------------------------------------------------------------ truncated BPTT


def manual_tbptt(model, data, seq_len, batch, steps, lr, clip):
    """An independent unrolled version: explicit list of chunks, torch's clipping."""
    n = len(data) // batch
    rows = [data[b * n : (b + 1) * n] for b in range(batch)]
    starts = list(range(0, n - seq_len, seq_len))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses, state = [], None
    for step in range(steps):
        k = step % len(starts)
        if k == 0:
            state = None
        s = starts[k]
        x = torch.stack([r[s : s + seq_len] for r in rows])
        y = torch.stack([r[s + 1 : s + seq_len + 1] for r in rows])
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        state = tuple(t.detach() for t in state)
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("clip", [None, 0.3])
def test_tbptt_equals_manual_unrolling(clip):
    data = torch.randint(0, 6, (3 * 23,), generator=gen(4))
    models = [helpers.ToyLSTMLM(6, gen(5)) for _ in range(2)]
    with substitute(ref, clip_grad_norm=helpers.trusted_clip_grad_norm):
        ours = ref.train_tbptt(models[0], data, 4, 3, 11, 0.05, clip)
    theirs = manual_tbptt(models[1], data, 4, 3, 11, 0.05, clip)
    assert ours == pytest.approx(theirs, rel=1e-12)
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)


def test_tbptt_carried_state_equals_one_forward():
    """With lr = 0 the losses of consecutive chunks equal those of one long forward pass."""
    data = torch.randint(0, 6, (2 * 25,), generator=gen(6))
    model = helpers.ToyLSTMLM(6, gen(7))
    with substitute(ref, clip_grad_norm=helpers.trusted_clip_grad_norm):
        losses = ref.train_tbptt(model, data, 4, 2, 6, 0.0, None)
    streams = data.view(2, 25)
    with torch.no_grad():
        logits, _ = model(streams[:, :24])
    per_chunk = [F.cross_entropy(logits[:, s : s + 4].flatten(0, 1), streams[:, s + 1 : s + 5].flatten()).item()
                 for s in range(0, 24, 4)]
    assert losses == pytest.approx(per_chunk, rel=1e-10)


def test_recall_stream_needs_memory():
    tokens, distance = helpers.recall_stream(200, gen(8), keys=4, max_gap=4)
    recall = (distance > 0).nonzero().flatten()
    assert len(recall) == 200
    for t in recall.tolist():
        d = int(distance[t])
        assert tokens[t - 1] == 5 and tokens[t] == tokens[t - 1 - d] and int(tokens[t]) < 4
