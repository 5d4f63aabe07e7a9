"""Hidden tests of `train_tbptt(model, data, seq_len, batch_size, steps, lr, clip, generator=None)`.

data (T,) is cut into batch_size rows, streams = data[: n * batch_size].view(batch_size, n); a pass
starts with state None at pos 0 (or at int(torch.randint(seq_len, (1,), generator=generator)));
each step reads inputs streams[:, pos : pos + seq_len] and targets one further, computes
logits, state = model(inputs, state), the mean cross-entropy, zero_grad, backward,
clip_grad_norm(list(model.parameters()), clip) (unless clip is None), Adam step, detaches the
state and moves pos by seq_len; a new pass starts when pos + seq_len + 1 > n. Returns the losses.

The mechanics tests train small float64 models of the tests' own (from the helper module), with
the name `clip_grad_norm` pointed at torch's clip_grad_norm_, so they depend on train_tbptt
alone: loss histories and weights must match the reference's, and a recording model checks
that the state is carried and detached. The last test is the integration test: your CharLSTM,
trained with your train_tbptt, must learn a stream in which predicting a token needs memory of
a key read up to five steps earlier, across chunks of three: only a carried state makes that
possible (a bug in CharLSTM can cost points here too).
"""


import pytest
import torch

from autograder.testing import load_helpers, substitute

helpers = load_helpers(__file__)

pytestmark = pytest.mark.question("bptt")


def train(sub, model, data, *args, **kwargs):
    with substitute(sub, clip_grad_norm=helpers.trusted_clip_grad_norm):
        losses = sub.train_tbptt(model, data, *args, **kwargs)
    steps = args[2]
    assert isinstance(losses, list) and len(losses) == steps, (
        f"train_tbptt must return a list with one loss per step ({steps}), got "
        f"{type(losses).__name__} of length {len(losses) if isinstance(losses, list) else '?'}"
    )
    assert all(type(v) is float for v in losses), "the losses must be Python floats (loss.item())"
    return losses


def observe_model(observe, model):
    for name, p in model.named_parameters():
        if name.startswith("out") or name.endswith("hh_l0"):
            observe(f"{name} after training", p)


CASES = {"seq4_b3_clip05": (4, 3, 60, 9, 0.5), "seq3_b2_noclip": (3, 2, 42, 8, None),
         "seq5_b4_clip1": (5, 4, 100, 6, 1.0)}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_losses_match(sub, observe, device, gen, case):
    """the loss history and the weights after training match the reference (several passes)"""
    seq_len, batch, T, steps, clip = case
    V = 5
    model = helpers.ToyGRULM(V, gen).to(device)
    data = torch.randint(0, V, (T,), generator=gen)
    losses = train(sub, model, data, seq_len, batch, steps, 0.05, clip)
    observe("losses", losses, rtol=1e-6)
    observe_model(observe, model)


def test_lstm_state(sub, observe, device, gen):
    """carries and detaches an (h, c) state (a toy model with nn.LSTM inside)"""
    V = 6
    model = helpers.ToyLSTMLM(V, gen).to(device)
    data = torch.randint(0, V, (64,), generator=gen)
    losses = train(sub, model, data, 4, 4, 6, 0.05, 0.3)
    observe("losses", losses, rtol=1e-6)
    observe_model(observe, model)


def test_with_generator(sub, observe, device, gen, seed):
    """with a generator, each pass starts at a random offset drawn as documented"""
    V = 5
    model = helpers.ToyGRULM(V, gen).to(device)
    data = torch.randint(0, V, (2 * 30,), generator=gen)
    losses = train(sub, model, data, 4, 2, 14, 0.05, 0.5, generator=torch.Generator().manual_seed(seed))
    starts = [int(c["idx"][0, 0]) for c in model.calls]
    observe("losses", losses, rtol=1e-6)
    observe("first tokens of the chunks", starts)


def test_state_carried_and_detached(sub, observe, device, gen):
    """each chunk starts from the previous chunk's final state, detached; a pass starts from None"""
    V = 5
    model = helpers.ToyGRULM(V, gen).to(device)
    data = torch.randint(0, V, (3 * 17,), generator=gen)  # n = 17, seq_len 4: 4 chunks per pass
    train(sub, model, data, 4, 3, 10, 0.05, 0.5)
    calls = model.calls
    assert len(calls) == 10, f"train_tbptt must call the model once per step (10), got {len(calls)} calls"
    pattern = []
    for k, call in enumerate(calls):
        if call["state_in"] is None:
            pattern.append("new")
            continue
        (h, requires_grad), = call["state_in"]
        assert k > 0 and torch.equal(h, calls[k - 1]["state_out"]), (
            f"step {k} did not start from the state step {k - 1} returned: carry the state from chunk to chunk"
        )
        assert not requires_grad, (
            f"the state given to the model at step {k} still requires grad: detach it after each step, "
            "so that backpropagation stops at the chunk boundary"
        )
        pattern.append("carried")
    assert pattern[0] == "new", "the first chunk of a pass starts from state None"
    observe("state at each step", pattern)
    chunks = [c["idx"] for c in calls]
    observe("chunks read", torch.stack(chunks))


# One contract: this test runs the mechanics checks above on one input each (clipping on and off, a one-part and a
# two-part (h, c) state carried and detached, random pass offsets) and carries two thirds of the question's points,
# so that a training loop wrong in any one of them keeps at most a third; the tests above say which part is wrong.
@pytest.mark.question("bptt", weight=16)
def test_whole_contract(sub, observe, device, gen, seed):
    """clipped and unclipped runs, an (h, c) state, random pass offsets, the state carried and detached"""
    test_losses_match(sub, observe, device, gen, CASES["seq4_b3_clip05"])
    test_losses_match(sub, observe, device, gen, CASES["seq3_b2_noclip"])
    test_lstm_state(sub, observe, device, gen)
    test_with_generator(sub, observe, device, gen, seed)
    test_state_carried_and_detached(sub, observe, device, gen)


# --------------------------------------------------------------------------- integration

KEYS, SEQ, BATCH, STEPS, LR, CLIP = 4, 3, 32, 250, 0.02, 1.0
EMBED, HIDDEN = 16, 32
THRESHOLD = 0.9


def start_weights(gen):
    """PyTorch's default uniform init drawn from gen, with the forget-gate biases raised by 1 each."""
    V, k = KEYS + 2, 1 / HIDDEN ** 0.5

    def uniform(*shape):
        return (2 * torch.rand(*shape, generator=gen) - 1) * k

    w = {"embed.weight": torch.randn(V, EMBED, generator=gen),
         "lstm.weight_ih_l0": uniform(4 * HIDDEN, EMBED), "lstm.weight_hh_l0": uniform(4 * HIDDEN, HIDDEN),
         "lstm.bias_ih_l0": uniform(4 * HIDDEN), "lstm.bias_hh_l0": uniform(4 * HIDDEN),
         "head.weight": uniform(V, HIDDEN), "head.bias": uniform(V)}
    for name in ("lstm.bias_ih_l0", "lstm.bias_hh_l0"):
        w[name][HIDDEN : 2 * HIDDEN] += 1.0
    return w


# A training run that must succeed on every grading, so its data and start are fixed (the reference
# recalls every key from this start; other starts were seen to leave it at 77%): this hidden test has
# no snapshot a submission could replay, so a fixed seed costs nothing here.
TRAINING_SEED = 1980281750


def test_learns_to_remember_across_chunks(sub, observe, device):
    """your CharLSTM trained with train_tbptt recalls keys read in earlier chunks"""
    seed = TRAINING_SEED
    gen = torch.Generator().manual_seed(seed)
    model = sub.CharLSTM(KEYS + 2, EMBED, HIDDEN)
    params = dict(model.named_parameters())
    weights = start_weights(gen)
    missing = sorted(set(weights) - set(params))
    assert not missing, f"CharLSTM lacks the documented parameter(s) {missing}; it has {sorted(params)}"
    with torch.no_grad():
        for name, w in weights.items():
            params[name].copy_(w)
    model = model.to(device).train()
    n_records = BATCH * SEQ * (STEPS + 2) // 5 + 200  # records average 5 tokens: one pass covers the steps
    data, _ = helpers.recall_stream(n_records, gen, keys=KEYS)
    losses = train(sub, model, data, SEQ, BATCH, STEPS, LR, CLIP, generator=torch.Generator().manual_seed(seed))
    held_out, distance = helpers.recall_stream(400, gen, keys=KEYS)
    model.eval()
    with torch.no_grad():
        logits, _ = model(held_out[None, :-1].to(device))
    correct = logits[0].argmax(-1).cpu() == held_out[1:]
    recall = distance[1:] > 0
    accuracy = float(correct[recall].float().mean())
    far = float(correct[distance[1:] >= SEQ].float().mean())
    final_loss = sum(losses[-50:]) / 50
    learned = accuracy >= THRESHOLD
    assert learned, (
        f"after {STEPS} steps of truncated BPTT (chunks of {SEQ}) your CharLSTM recalls only {accuracy:.1%} of the "
        f"keys (the reference about 100%, {THRESHOLD:.0%} needed; chance is {1 / KEYS:.0%}); its final training loss "
        f"is {final_loss:.3f}. The key is read up to five steps before it must be recalled: carry the state from chunk "
        "to chunk (detached), and check CharLSTM.forward too, since this trains your own model"
    )
    # decisive in the parent: within 1 - THRESHOLD of the reference's accuracy (about 100%), and a training loss at the
    # reference's level (about 0.65; a model that never carries the state stays near 1.0)
    observe("held-out recall accuracy", accuracy, rtol=0.0, atol=1.0 - THRESHOLD)
    observe("recall accuracy at distance >= seq_len", far, rtol=0.0, atol=0.15)
    observe("mean training loss over the last 50 steps", final_loss, rtol=0.0, atol=0.15)
