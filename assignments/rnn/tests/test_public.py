"""Public tests of the rnn assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). PyTorch's own modules are the oracles: your cells must match
nn.RNNCell, nn.LSTMCell and nn.GRUCell loaded with the same weights, your layer nn.LSTM, your
clipping torch.nn.utils.clip_grad_norm_. The hidden tests check the same things more thoroughly
(more sizes, float32 and float64, gradients, edge cases, sampling, a training run).

Questions build on each other, but each is graded on its own: while `lstm_layer`'s tests run,
the name `lstm_cell` is pointed at torch's own LSTM cell, and while `bptt`'s tests run,
`clip_grad_norm` is pointed at torch's clip_grad_norm_ and the model is a small toy model of the
tests' own. Call the earlier questions BY NAME.
"""

import pytest
import torch
import torch.nn as nn

from autograder.testing import substitute

F64 = torch.float64


def randn(gen, *shape, dtype=F64, scale=1.0):
    return (scale * torch.randn(*shape, generator=gen, dtype=F64)).to(dtype)


def cell_weights(gen, G, I, H, dtype=F64):
    """W_ih (G*H, I), W_hh (G*H, H), b_ih, b_hh (G*H,): distinct biases, so both must be used."""
    return [randn(gen, G * H, I, dtype=dtype, scale=0.5), randn(gen, G * H, H, dtype=dtype, scale=0.5),
            randn(gen, G * H, dtype=dtype, scale=0.5), randn(gen, G * H, dtype=dtype, scale=0.5)]


def load_cell(module, weights):
    with torch.no_grad():
        for p, w in zip([module.weight_ih, module.weight_hh, module.bias_ih, module.bias_hh], weights):
            p.copy_(w)
    return module


# --------------------------------------------------------------------------- cells


@pytest.mark.question("rnn_cell")
def test_rnn_cell_matches_torch(sub, observe, device, gen):
    """matches nn.RNNCell with the same weights"""
    N, I, H = 3, 5, 4
    weights = cell_weights(gen, 1, I, H)
    x, h = randn(gen, N, I), randn(gen, N, H)
    out = sub.rnn_cell(x.to(device), h.to(device), *[w.to(device) for w in weights])
    assert tuple(out.shape) == (N, H), f"h' must have shape (N, H) = {(N, H)}, got {tuple(out.shape)}"
    want = load_cell(nn.RNNCell(I, H).double(), weights)(x, h)
    assert torch.allclose(out.cpu(), want, atol=1e-10), (
        "rnn_cell differs from nn.RNNCell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), with both biases"
    )
    observe("h'", out)


@pytest.mark.question("lstm_cell")
def test_lstm_cell_matches_torch(sub, observe, device, gen):
    """matches nn.LSTMCell with the same weights (gate order [i | f | g | o])"""
    N, I, H = 3, 5, 4
    weights = cell_weights(gen, 4, I, H)
    x, h, c = randn(gen, N, I), randn(gen, N, H), randn(gen, N, H)
    out = sub.lstm_cell(x.to(device), (h.to(device), c.to(device)), *[w.to(device) for w in weights])
    assert isinstance(out, tuple) and len(out) == 2, "lstm_cell must return the tuple (h', c')"
    want_h, want_c = load_cell(nn.LSTMCell(I, H).double(), weights)(x, (h, c))
    assert torch.allclose(out[1].cpu(), want_c, atol=1e-10), (
        "c' differs from nn.LSTMCell's: c' = f * c + i * g with the row blocks [i | f | g | o], g = tanh(...)"
    )
    assert torch.allclose(out[0].cpu(), want_h, atol=1e-10), "h' differs from nn.LSTMCell's: h' = o * tanh(c')"
    observe("h'", out[0])
    observe("c'", out[1])


@pytest.mark.question("gru_cell")
def test_gru_cell_matches_torch(sub, observe, device, gen):
    """matches nn.GRUCell with the same weights (gate order [r | z | n])"""
    N, I, H = 3, 5, 4
    weights = cell_weights(gen, 3, I, H)
    x, h = randn(gen, N, I), randn(gen, N, H)
    out = sub.gru_cell(x.to(device), h.to(device), *[w.to(device) for w in weights])
    assert tuple(out.shape) == (N, H), f"h' must have shape (N, H) = {(N, H)}, got {tuple(out.shape)}"
    want = load_cell(nn.GRUCell(I, H).double(), weights)(x, h)
    assert torch.allclose(out.cpu(), want, atol=1e-10), (
        "gru_cell differs from nn.GRUCell: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h"
    )
    observe("h'", out)


# --------------------------------------------------------------------------- layer


def torch_lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """torch's own LSTM cell, standing in for yours."""
    return torch.lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh)


def load_lstm(module, weights):
    with torch.no_grad():
        for p, w in zip([module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0], weights):
            p.copy_(w)
    return module


@pytest.mark.question("lstm_layer")
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
def test_lstm_layer_matches_torch(sub, observe, device, gen, with_state):
    """matches nn.LSTM (one layer, batch_first=False): outputs and final state"""
    L, N, I, H = 5, 2, 3, 4
    weights = cell_weights(gen, 4, I, H)
    x = randn(gen, L, N, I)
    state = (randn(gen, N, H), randn(gen, N, H)) if with_state else None
    with substitute(sub, lstm_cell=torch_lstm_cell):
        out = sub.lstm_layer(x.to(device), None if state is None else tuple(s.to(device) for s in state),
                             *[w.to(device) for w in weights])
    assert isinstance(out, tuple) and len(out) == 2, "lstm_layer must return (output, (h_n, c_n))"
    output, (h_n, c_n) = out
    assert tuple(output.shape) == (L, N, H), f"output must have shape (L, N, H) = {(L, N, H)}"
    lstm = load_lstm(nn.LSTM(I, H).double(), weights)
    want, (want_h, want_c) = lstm(x, None if state is None else (state[0][None], state[1][None]))
    assert torch.allclose(output.cpu(), want, atol=1e-10), (
        "output differs from nn.LSTM's: output[t] is h_t, and each step starts from the previous step's (h, c)"
    )
    assert torch.allclose(c_n.cpu(), want_c[0], atol=1e-10), "c_n must be the cell state after the last step"
    observe("output", output)
    observe("h_n", h_n)
    observe("c_n", c_n)


# --------------------------------------------------------------------------- clipping


@pytest.mark.question("clip_grad_norm")
@pytest.mark.parametrize("max_norm", [0.5, 100.0], ids=["clipped", "unclipped"])
def test_clip_grad_norm_matches_torch(sub, observe, device, gen, max_norm):
    """matches torch.nn.utils.clip_grad_norm_: returned norm and gradients after"""
    shapes = [(3, 4), (4,), (2, 2, 2)]
    grads = [randn(gen, *s) for s in shapes]
    params = [torch.zeros(s, dtype=F64, device=device, requires_grad=True) for s in shapes]
    for p, g in zip(params, grads):
        p.grad = g.clone().to(device)
    total = sub.clip_grad_norm(params, max_norm)
    assert isinstance(total, torch.Tensor), f"clip_grad_norm must return the total norm as a tensor, got {type(total)}"
    ref_params = [torch.zeros(s, dtype=F64, requires_grad=True) for s in shapes]
    for p, g in zip(ref_params, grads):
        p.grad = g.clone()
    want = torch.nn.utils.clip_grad_norm_(ref_params, max_norm)
    assert abs(float(total) - float(want)) < 1e-9, (
        f"returned {float(total):.6f}, but the L2 norm of all gradients together, before clipping, is {float(want):.6f}"
    )
    observe("total norm", total)
    for i, p in enumerate(params):
        observe(f"grad {i} after", p.grad)


# --------------------------------------------------------------------------- character model


def load_char_model(model, gen, V, E, H):
    shapes = {"embed.weight": (V, E), "lstm.weight_ih_l0": (4 * H, E), "lstm.weight_hh_l0": (4 * H, H),
              "lstm.bias_ih_l0": (4 * H,), "lstm.bias_hh_l0": (4 * H,), "head.weight": (V, H), "head.bias": (V,)}
    params = dict(model.named_parameters())
    missing = sorted(set(shapes) - set(params))
    assert not missing, f"CharLSTM lacks the parameter(s) {missing}: keep the constructor as given"
    with torch.no_grad():
        for name, shape in shapes.items():
            params[name].copy_(torch.randn(shape, generator=gen))
    return model


@pytest.mark.question("char_model")
def test_char_model_forward(sub, observe, device, gen):
    """forward returns (N, L, V) logits and the LSTM's final (h, c)"""
    V, E, H = 7, 5, 6
    model = load_char_model(sub.CharLSTM(V, E, H), gen, V, E, H).to(device)
    idx = torch.randint(0, V, (2, 4), generator=gen).to(device)
    out = model(idx)
    assert isinstance(out, tuple) and len(out) == 2, "forward must return (logits, state)"
    logits, (h, c) = out
    assert tuple(logits.shape) == (2, 4, V), f"logits must have shape (N, L, V) = (2, 4, {V})"
    assert tuple(h.shape) == (1, 2, H), f"h must have nn.LSTM's shape (num_layers, N, H) = (1, 2, {H})"
    observe("logits", logits)
    observe("h", h)
    observe("c", c)


@pytest.mark.question("char_model")
def test_sample_greedy(sub, observe, device, gen):
    """temperature 0 appends the argmax of the last logits at every step"""
    V, E, H = 7, 5, 6
    model = load_char_model(sub.CharLSTM(V, E, H), gen, V, E, H).to(device)
    prefix = torch.randint(0, V, (2, 3), generator=gen).to(device)
    out = sub.sample(model, prefix, 5, temperature=0)
    assert tuple(out.shape) == (2, 8), f"sample must return (N, P + n) = (2, 8), got {tuple(out.shape)}"
    assert torch.equal(out[:, :3], prefix), "the output must start with the prefix"
    observe("greedy tokens", out)


# --------------------------------------------------------------------------- truncated BPTT


def torch_clip_grad_norm(parameters, max_norm):
    """torch's clip_grad_norm_, standing in for yours."""
    return torch.nn.utils.clip_grad_norm_(list(parameters), max_norm)


class ToyGRULM(nn.Module):
    """A toy language model for train_tbptt: embedding, nn.GRU, linear. Its state is the 1-tuple (h,)."""

    def __init__(self, vocab_size, gen):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, 4)
        self.rnn = nn.GRU(4, 6, batch_first=True)
        self.out = nn.Linear(6, vocab_size)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
        self.double()

    def forward(self, idx, state=None):
        out, h = self.rnn(self.emb(idx), None if state is None else state[0])
        return self.out(out), (h,)


@pytest.mark.question("bptt")
def test_tbptt_losses(sub, observe, device, gen):
    """trains a toy model: the loss history matches the reference over two passes"""
    V = 5
    model = ToyGRULM(V, gen).to(device)
    data = torch.randint(0, V, (3 * 20,), generator=gen)  # 3 streams of 20 tokens: 4 chunks of 4 per pass
    with substitute(sub, clip_grad_norm=torch_clip_grad_norm):
        losses = sub.train_tbptt(model, data, 4, 3, 7, 0.05, 0.5)
    assert isinstance(losses, list) and len(losses) == 7, "train_tbptt must return a list with one loss per step"
    assert all(type(v) is float for v in losses), "the losses must be Python floats (loss.item())"
    observe("losses", losses, rtol=1e-6)
    observe("output weight after", model.out.weight)
