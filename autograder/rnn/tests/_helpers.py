"""Trusted stand-ins and data shared by several hidden test files of the rnn assignment.

Not a test file (the engine collects ``test_*.py`` only). Test files load it with
``autograder.collect.load_test_module``, which registers it as trusted and keeps it out of
``sys.modules``, so a submission cannot import these answers by module name.

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
