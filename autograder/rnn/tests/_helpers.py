"""Trusted stand-ins and data shared by several hidden test files of the rnn assignment.

Not a test file (the engine collects ``test_*.py`` only). Test files load it with
``autograder.testing.load_helpers(__file__)``, which registers it as trusted and keeps it out of
``sys.modules``, so a submission cannot import these answers by module name.

- ``cell_case``, ``torch_cell``, ``check_cell_gradients``: the harness the three cell questions
  share (inputs drawn from the test's generator, ``nn.RNNCell``/``GRUCell``/``LSTMCell`` loaded
  with the same weights as the oracle).

- ``trusted_lstm_cell`` stands in for the student's ``lstm_cell`` in the ``lstm_layer`` tests:
  written with ``F.linear`` and ``chunk``, checked against ``nn.LSTMCell`` in
  tests/test_rnn_reference.py.
- ``trusted_clip_grad_norm`` stands in for the student's ``clip_grad_norm`` in the ``bptt`` tests:
  torch's own ``clip_grad_norm_``.
- ``ToyGRULM`` / ``ToyLSTMLM``: small language models of the tests' own for ``train_tbptt``
  (their state is a tuple, as the contract says), so that the mechanics tests do not depend on the
  student's CharLSTM.
- ``recall_stream``: the synthetic memory task of the bptt integration test.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

F64 = torch.float64
CELL_SIZES = {"N1_I3_H3": (1, 3, 3), "N4_I5_H7": (4, 5, 7), "N6_I8_H4": (6, 8, 4)}  # (N, I, H): I != H shows a .T
CELLS = {"rnn_cell": (nn.RNNCell, 1), "gru_cell": (nn.GRUCell, 3), "lstm_cell": (nn.LSTMCell, 4)}  # class, gates


def randn(gen, *shape, dtype=F64, scale=1.0):
    """Drawn in float64 from ``gen`` (the same numbers whatever the dtype), then cast."""
    return (scale * torch.randn(*shape, generator=gen, dtype=F64)).to(dtype)


def cell_case(gen, question, N, I, H, dtype=F64, scale=0.6):
    """(x, state, weights) for a cell question: state is h, or (h, c) for the LSTM with c large enough
    to leave tanh's linear range; weights [W_ih, W_hh, b_ih, b_hh] with the biases drawn apart, so
    using one bias for both shows."""
    gates = CELLS[question][1]
    weights = [randn(gen, gates * H, I, dtype=dtype, scale=scale), randn(gen, gates * H, H, dtype=dtype, scale=scale),
               randn(gen, gates * H, dtype=dtype, scale=scale), randn(gen, gates * H, dtype=dtype, scale=scale)]
    x, h = randn(gen, N, I, dtype=dtype), randn(gen, N, H, dtype=dtype)
    state = (h, randn(gen, N, H, dtype=dtype, scale=2.0)) if question == "lstm_cell" else h
    return x, state, weights


def torch_cell(question, I, H, weights, dtype=F64):
    """The oracle: torch's cell of that kind with the given weights."""
    cell = CELLS[question][0](I, H).to(dtype)
    with torch.no_grad():
        for p, w in zip([cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh], weights):
            p.copy_(w)
    return cell


def check_cell_gradients(sub, observe, device, gen, question, N=3, I=4, H=5):
    """Backpropagate random upstream gradients through the student's cell and torch's; every input
    and weight must get torch's gradient (float64)."""
    x, state, weights = cell_case(gen, question, N, I, H)
    states = list(state) if isinstance(state, tuple) else [state]
    upstream = [randn(gen, N, H) for _ in states]

    def pack(ts):
        return tuple(ts) if isinstance(state, tuple) else ts[0]

    def backward(outputs, ups):
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        sum((o * u).sum() for o, u in zip(outputs, ups)).backward()

    leaves = [t.clone().to(device).requires_grad_(True) for t in [x, *states, *weights]]
    k = 1 + len(states)
    backward(getattr(sub, question)(leaves[0], pack(leaves[1:k]), *leaves[k:]), [u.to(device) for u in upstream])
    cell = torch_cell(question, I, H, weights)
    ref = [t.clone().requires_grad_(True) for t in [x, *states]]
    backward(cell(ref[0], pack(ref[1:])), upstream)
    want = [r.grad for r in ref] + [cell.weight_ih.grad, cell.weight_hh.grad, cell.bias_ih.grad, cell.bias_hh.grad]
    names = ["x", "h", "c"][:k] + ["W_ih", "W_hh", "b_ih", "b_hh"]
    torch_name = CELLS[question][0].__name__
    for name, leaf, w in zip(names, leaves, want):
        assert leaf.grad is not None, f"no gradient reached {name}: compute the output from it with differentiable ops"
        assert torch.allclose(leaf.grad.cpu(), w, atol=1e-10), f"the gradient of {name} differs from nn.{torch_name}'s"
        observe(f"grad {name}", leaf.grad)


def trusted_lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """nn.LSTMCell's maths: gates [i | f | g | o] from one fused projection."""
    h, c = state
    i, f, g, o = (F.linear(x, W_ih, b_ih) + F.linear(h, W_hh, b_hh)).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def trusted_clip_grad_norm(parameters, max_norm):
    """torch.nn.utils.clip_grad_norm_ on the list (the total norm before clipping is returned)."""
    return torch.nn.utils.clip_grad_norm_(list(parameters), max_norm)


def _fill(module, gen, scale=0.5):
    """Deterministic starting weights from gen, whatever the global RNG did."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=gen, dtype=torch.float64))


class ToyGRULM(nn.Module):
    """Embedding, nn.GRU (batch_first), linear head; its state is the 1-tuple (h,)."""

    def __init__(self, vocab_size, gen, hidden=8, dtype=torch.float64):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, 6)
        self.rnn = nn.GRU(6, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)
        _fill(self, gen)
        self.to(dtype)
        self.calls = []

    def forward(self, idx, state=None):
        call = {"idx": idx.detach().cpu().clone(), "state_in": None if state is None else
                [(s.detach().clone(), s.requires_grad) for s in state]}
        out, h = self.rnn(self.emb(idx), None if state is None else state[0])
        call["state_out"] = h.detach().clone()
        self.calls.append(call)
        return self.out(out), (h,)


class ToyLSTMLM(nn.Module):
    """Embedding, nn.LSTM (batch_first), linear head; its state is (h, c)."""

    def __init__(self, vocab_size, gen, hidden=8, dtype=torch.float64):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, 6)
        self.rnn = nn.LSTM(6, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)
        _fill(self, gen)
        self.to(dtype)

    def forward(self, idx, state=None):
        out, state = self.rnn(self.emb(idx), state)
        return self.out(out), state


def recall_stream(n_records, gen, keys=4, max_gap=4):
    """A token stream that needs memory: records [k, F x g, Q, k] with k a random key in [0, keys),
    g uniform in [0, max_gap] filler tokens F = keys, then the query Q = keys + 1 and the key again.

    Returns (tokens (T,), distance (T,)): distance[t] > 0 marks the recall tokens (the k after Q),
    and is how many steps before the query the key was read. Vocabulary size keys + 2.
    """
    filler, query = keys, keys + 1
    k = torch.randint(keys, (n_records,), generator=gen)
    gaps = torch.randint(max_gap + 1, (n_records,), generator=gen)
    tokens, distance = [], []
    for key, gap in zip(k.tolist(), gaps.tolist()):
        tokens += [key] + [filler] * gap + [query, key]
        distance += [0] * (gap + 2) + [gap + 1]
    return torch.tensor(tokens), torch.tensor(distance)
