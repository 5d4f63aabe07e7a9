"""Hidden tests of `CharLSTM.forward(idx, state=None) -> (logits, state)` and
`sample(model, prefix, n, temperature=1.0, generator=None)`.

CharLSTM's constructor is given (embed, lstm = nn.LSTM(batch_first=True), head); weights are
loaded through those names and the oracle is the same computation written here with
F.embedding, nn.LSTM and F.linear. sample feeds the prefix once, then one token at a time with
the carried state, under no_grad; temperature 0 is greedy, otherwise softmax(logits / T) and
torch.multinomial(probs, 1, generator=generator). The sampling tests use models of the tests'
own that record their calls.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

pytestmark = pytest.mark.question("char_model")

V, E, H = 9, 5, 6


def char_weights(gen, num_layers=1):
    w = {"embed.weight": torch.randn(V, E, generator=gen)}
    for layer in range(num_layers):
        n_in = E if layer == 0 else H
        w[f"lstm.weight_ih_l{layer}"] = 0.6 * torch.randn(4 * H, n_in, generator=gen)
        w[f"lstm.weight_hh_l{layer}"] = 0.6 * torch.randn(4 * H, H, generator=gen)
        w[f"lstm.bias_ih_l{layer}"] = 0.5 * torch.randn(4 * H, generator=gen)
        w[f"lstm.bias_hh_l{layer}"] = 0.5 * torch.randn(4 * H, generator=gen)
    w["head.weight"] = torch.randn(V, H, generator=gen)
    w["head.bias"] = torch.randn(V, generator=gen)
    return w


def build(sub, gen, device, num_layers=1):
    if num_layers == 1:
        model = sub.CharLSTM(V, E, H)
    else:
        model = sub.CharLSTM(V, E, H, num_layers=num_layers)
    weights = char_weights(gen, num_layers)
    params = dict(model.named_parameters())
    missing = sorted(set(weights) - set(params))
    assert not missing, f"CharLSTM lacks the parameter(s) {missing}: keep the constructor as given"
    with torch.no_grad():
        for name, w in weights.items():
            params[name].copy_(w)
    return model.to(device), weights


class Oracle(nn.Module):
    """The documented computation: embedding, nn.LSTM (batch_first), linear head."""

    def __init__(self, weights, num_layers=1):
        super().__init__()
        self.w = weights
        self.lstm = nn.LSTM(E, H, num_layers=num_layers, batch_first=True)
        with torch.no_grad():
            for name, p in self.lstm.named_parameters():
                p.copy_(weights[f"lstm.{name}"])

    def forward(self, idx, state=None):
        out, state = self.lstm(F.embedding(idx, self.w["embed.weight"]), state)
        return F.linear(out, self.w["head.weight"], self.w["head.bias"]), state


def forward(model, idx, state=None):
    out = model(idx) if state is None else model(idx, state)
    assert isinstance(out, tuple) and len(out) == 2, "forward must return (logits, state)"
    logits, state = out
    N, L = idx.shape
    assert tuple(logits.shape) == (N, L, V), f"logits must have shape (N, L, V) = {(N, L, V)}"
    assert isinstance(state, tuple) and len(state) == 2, "the state must be the LSTM's (h, c)"
    return logits, state


@pytest.mark.parametrize("num_layers", [1, 2])
def test_forward_matches(sub, observe, device, gen, num_layers):
    """returns the documented logits and nn.LSTM's final (h, c)"""
    model, weights = build(sub, gen, device, num_layers)
    idx = torch.randint(0, V, (3, 7), generator=gen)
    logits, (h, c) = forward(model, idx.to(device))
    want, (want_h, want_c) = Oracle(weights, num_layers)(idx)
    assert tuple(h.shape) == (num_layers, 3, H), f"h must have shape (num_layers, N, H) = {(num_layers, 3, H)}"
    assert torch.allclose(logits.detach().cpu(), want.detach(), atol=1e-5), (
        "logits differ from head(lstm(embed(idx))[0]): embed the ids, run self.lstm, apply self.head to every step"
    )
    assert torch.allclose(c.detach().cpu(), want_c.detach(), atol=1e-5), "the state must be the (h, c) nn.LSTM returns"
    observe("logits", logits)
    observe("h", h)
    observe("c", c)


def test_state_continues(sub, observe, device, gen):
    """forward on a prefix, then on the rest with the returned state, equals one forward"""
    model, _ = build(sub, gen, device)
    idx = torch.randint(0, V, (2, 8), generator=gen).to(device)
    full, (h_full, _) = forward(model, idx)
    first, state = forward(model, idx[:, :5])
    rest, (h_rest, _) = forward(model, idx[:, 5:], state)
    same = bool(torch.allclose(torch.cat([first, rest], dim=1), full, atol=1e-5))
    assert same, "forward(idx[:, 5:], state) must continue from the state forward(idx[:, :5]) returned: pass it to lstm"
    observe("continued equals full", same)
    observe("logits of the continuation", rest)
    observe("final h", h_rest)


def test_given_state(sub, observe, device, gen):
    """starts from a given (h, c)"""
    model, weights = build(sub, gen, device)
    idx = torch.randint(0, V, (2, 4), generator=gen)
    state = (torch.randn(1, 2, H, generator=gen), torch.randn(1, 2, H, generator=gen))
    logits, _ = forward(model, idx.to(device), tuple(s.to(device) for s in state))
    want, _ = Oracle(weights)(idx, state)
    assert torch.allclose(logits.detach().cpu(), want.detach(), atol=1e-5), "forward must start from the given state"
    observe("logits", logits)


def test_gradients(sub, observe, device, gen):
    """is differentiable in every parameter"""
    model, _ = build(sub, gen, device)
    idx = torch.randint(0, V, (2, 5), generator=gen).to(device)
    logits, _ = forward(model, idx)
    (logits * torch.randn(logits.shape, generator=gen).to(device)).sum().backward()
    for name in ["embed.weight", "lstm.weight_ih_l0", "lstm.bias_hh_l0", "head.weight"]:
        observe(f"{name}.grad", model.get_parameter(name).grad)


# --------------------------------------------------------------------------- sample


class RecordingLM(nn.Module):
    """A small recurrent LM of the tests' own (nn.LSTM inside) that records how it is called."""

    def __init__(self, gen, scale=2.0):
        super().__init__()
        self.emb = nn.Embedding(V, 4)
        self.rnn = nn.LSTM(4, 8, batch_first=True)
        self.out = nn.Linear(8, V)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(scale * torch.randn(p.shape, generator=gen))
        self.calls = []

    def forward(self, idx, state=None):
        self.calls.append({"length": idx.shape[1], "state": state is not None, "grad": torch.is_grad_enabled()})
        out, state = self.rnn(self.emb(idx), state)
        return self.out(out), state


def run_sample(sub, model, prefix, n, **kwargs):
    before = prefix.clone()
    out = sub.sample(model, prefix, n, **kwargs)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.long, "sample must return a long tensor of token ids"
    N, P = prefix.shape
    assert tuple(out.shape) == (N, P + n), f"sample must return (N, P + n) = {(N, P + n)}, got {tuple(out.shape)}"
    assert torch.equal(prefix, before), "sample must not modify the prefix"
    assert torch.equal(out[:, :P], prefix), "the output must start with the prefix"
    return out


def test_greedy_is_argmax(sub, observe, device, gen):
    """temperature 0 appends the argmax of the logits of the sequence so far"""
    model = RecordingLM(gen).to(device)
    prefix = torch.randint(0, V, (3, 4), generator=gen).to(device)
    out = run_sample(sub, model, prefix, 6, temperature=0)
    with torch.no_grad():
        for t in range(4, 10):
            logits, _ = model(out[:, :t])
            assert torch.equal(out[:, t], logits[:, -1].argmax(-1)), (
                f"token {t} is not the argmax of the logits after reading tokens 0..{t - 1}: with temperature 0, "
                "next = logits[:, -1, :].argmax(-1), and the state must carry everything read so far"
            )
    observe("greedy tokens", out)


@pytest.mark.parametrize("temperature", [1.0, 0.6, 1.7])
def test_sampling_matches_reference(sub, observe, device, gen, seed, temperature):
    """draws the reference's tokens from a seeded generator"""
    model = RecordingLM(gen, scale=1.0).to(device)
    prefix = torch.randint(0, V, (4, 3), generator=gen).to(device)
    g = torch.Generator(device=device).manual_seed(seed)
    out = run_sample(sub, model, prefix, 10, temperature=temperature, generator=g)
    observe("sampled tokens", out)


def test_calls(sub, observe, device, gen, seed):
    """feeds the prefix once, then only the newest token with the state, under no_grad"""
    model = RecordingLM(gen).to(device)
    prefix = torch.randint(0, V, (2, 5), generator=gen).to(device)
    out = run_sample(sub, model, prefix, 4, generator=torch.Generator(device=device).manual_seed(seed))
    calls = model.calls
    assert calls and not any(c["grad"] for c in calls), "sample must run the model under torch.no_grad()"
    assert (calls[0]["length"], calls[0]["state"]) == (5, False), "the first call must be model(prefix), no state"
    rest = [(c["length"], c["state"]) for c in calls[1:]]
    assert len(rest) in (3, 4) and all(r == (1, True) for r in rest), (
        "after the prefix, each step must feed ONLY the newest token, shape (N, 1), with the state the previous call "
        f"returned; the calls got (length, with state) = {rest}"
    )
    observe("tokens", out)


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_temperature(sub, observe, device, seed, temperature):
    """divides the logits by the temperature before the softmax"""

    class Fixed(nn.Module):
        def forward(self, idx, state=None):
            logits = torch.linspace(2.0, -2.0, V, device=idx.device).expand(idx.shape[0], idx.shape[1], V)
            return logits, (torch.zeros(1, device=idx.device), torch.zeros(1, device=idx.device))

    prefix = torch.zeros(64, 1, dtype=torch.long, device=device)
    out = run_sample(sub, Fixed(), prefix, 4, temperature=temperature,
                     generator=torch.Generator(device=device).manual_seed(seed))
    observe("sampled tokens", out)
    observe("token counts", torch.bincount(out[:, 1:].flatten().cpu(), minlength=V))


def test_one_token(sub, observe, device, gen, seed):
    """samples a single token"""
    model = RecordingLM(gen).to(device)
    prefix = torch.randint(0, V, (3, 2), generator=gen).to(device)
    observe("greedy", run_sample(sub, model, prefix, 1, temperature=0))
    observe("sampled", run_sample(sub, model, prefix, 1, generator=torch.Generator(device=device).manual_seed(seed)))


# The model is one contract (forward with and without a state, and sampling that carries it): this test runs the
# checks of both methods and carries two thirds of the question's points, so that code wrong on every input of
# either keeps at most a third; the tests above say which part is wrong.
@pytest.mark.question("char_model", weight=30)
def test_whole_contract(sub, observe, device, gen, seed):
    """forward from zeros and from a given state, and sampling: greedy, at a temperature, carrying the state"""
    test_forward_matches(sub, observe, device, gen, 2)
    test_state_continues(sub, observe, device, gen)
    test_given_state(sub, observe, device, gen)
    test_greedy_is_argmax(sub, observe, device, gen)
    test_sampling_matches_reference(sub, observe, device, gen, seed, 0.6)
    test_temperature(sub, observe, device, seed, 2.0)
    test_calls(sub, observe, device, gen, seed)
