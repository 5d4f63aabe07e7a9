"""Hidden tests of question `train`: `GCN(in_features, hidden_features, num_classes, dropout=0.5)` with
forward(x, adj_norm) = conv2(dropout(relu(conv1(x, adj_norm))), adj_norm), and `train_step(model,
optimizer, x, adj_norm, y, train_mask) -> float` (model.train(), zero_grad, cross-entropy over the
labelled nodes only, backward, step, loss.item()).

The mechanics tests run your GCN with your train_step, with the name `GCNLayer` pointed at a trusted
layer of the tests' own (weights loaded through conv1/conv2.linear.weight and .bias), so they depend on
this question alone; they train with `model.dropout = 0.0` (dropout draws random numbers) and judge
dropout separately, by its statistics. Every mechanics test leaves stale gradients in .grad and the
model in eval mode before calling train_step, as a notebook does.

The last test is the integration test: a two-layer GCN built from YOUR GCNLayer, with YOUR
normalize_adjacency and YOUR train_step, trained with Adam on a stochastic block model drawn at grading
time (5 labelled nodes per class), must label most held-out nodes correctly (a bug in `gcn` or
`normalize_adjacency` can cost points there too).
"""

import math

import pytest
import torch
import torch.nn as nn

from autograder.testing import expect_close, load_helpers, substitute
from shared.graphs import community_features, labelled_split, stochastic_block_model

H = load_helpers(__file__)
pytestmark = pytest.mark.question("train")

F64 = torch.float64


class TrustedGCNLayer(nn.Module):
    """The tests' GCN layer: out_i = sum_j adj[i, j] (W x_j) + b, by einsum."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x, adj_norm):
        out = torch.einsum("ij,jf->if", adj_norm, torch.einsum("jk,fk->jf", x, self.linear.weight))
        return out if self.bias is None else out + self.bias


class Recorder(TrustedGCNLayer):
    """The trusted layer, also recording its input."""

    inputs = []

    def forward(self, x, adj_norm):
        Recorder.inputs.append(x.detach().clone())
        return super().forward(x, adj_norm)


NAMES = ("conv1.linear.weight", "conv1.bias", "conv2.linear.weight", "conv2.bias")


def build(sub, gen, fin, hidden, classes, device, layer=TrustedGCNLayer, dropout=0.5):
    with substitute(sub, GCNLayer=layer):
        model = sub.GCN(fin, hidden, classes, dropout=dropout)
    params = dict(model.named_parameters())
    shapes = {"conv1.linear.weight": (hidden, fin), "conv1.bias": (hidden,), "conv2.linear.weight": (classes, hidden),
              "conv2.bias": (classes,)}
    ok = bool(set(params) == set(shapes))
    assert ok, (
        f"GCN must hold exactly the skeleton's conv1 and conv2 (built with GCNLayer by name); its parameters are "
        f"{sorted(params)}")
    model = model.double()
    with torch.no_grad():
        for name, shape in shapes.items():
            params[name].copy_(torch.randn(shape, generator=gen, dtype=F64) / math.sqrt(shape[-1]))
    return model.to(device)


def graph(gen, n, fin, classes, device):
    adj = H.random_adj(gen, n, p=0.3) + torch.eye(n, dtype=F64)
    d = adj.sum(1).rsqrt()
    x = torch.randn(n, fin, generator=gen, dtype=F64)
    y = torch.randint(0, classes, (n,), generator=gen)
    mask = torch.rand(n, generator=gen) < 0.4
    mask[0] = True  # at least one labelled node
    if n > 1:
        mask[-1] = False  # and at least one unlabelled one
    return x.to(device), (d[:, None] * adj * d[None, :]).to(device), y.to(device), mask.to(device)


def step(sub, model, opt, x, adj, y, mask):
    for p in model.parameters():
        p.grad = torch.full_like(p, 3.0)  # stale gradients, e.g. left by an earlier backward()
    model.eval()  # e.g. left there by an evaluation
    with substitute(sub, GCNLayer=TrustedGCNLayer):
        loss = sub.train_step(model, opt, x, adj, y, mask)
    ok = bool(type(loss) is float)
    assert ok, (
        f"train_step must return loss.item(), a Python float; got {type(loss).__name__}")
    ok = bool(model.training)
    assert ok, (
        "train_step must put the model in training mode (model.train()) before the forward pass: dropout is on "
        "while training")
    return loss


def eval_logits(sub, model, x, adj):
    model.eval()
    with torch.no_grad(), substitute(sub, GCNLayer=TrustedGCNLayer):
        logits = model(x, adj)
    return logits


@pytest.mark.question("train", weight=2)  # the core check of train_step and GCN.forward together
@pytest.mark.parametrize("optimizer,n,classes", [("sgd", 9, 3), ("adam", 14, 4), ("momentum", 6, 2), ("sgd", 2, 2)])
def test_training_steps(sub, observe, device, gen, optimizer, n, classes):
    """three steps of your train_step on your GCN match the reference (losses, logits, parameters)"""
    model = build(sub, gen, 5, 6, classes, device)
    x, adj, y, mask = graph(gen, n, 5, classes, device)
    logits = eval_logits(sub, model, x, adj)
    ok = bool(isinstance(logits, torch.Tensor) and logits.shape == (n, classes))
    assert ok, (
        f"GCN.forward must return the logits (N, C) = {(n, classes)}; got {H.describe(logits)}")
    ok = bool(torch.equal(logits, eval_logits(sub, model, x, adj)))
    assert ok, (
        "in eval mode the GCN must be deterministic: F.dropout(h, self.dropout, training=self.training)")
    observe("logits before training (eval mode, dropout 0.5)", logits)
    model.dropout = 0.0  # deterministic training steps
    opt = {"sgd": lambda p: torch.optim.SGD(p, lr=0.3), "adam": lambda p: torch.optim.Adam(p, lr=0.05),
           "momentum": lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.9)}[optimizer](model.parameters())
    for i in range(3):
        observe(f"loss at step {i + 1}", step(sub, model, opt, x, adj, y, mask), rtol=1e-7)
    observe("logits after three steps", eval_logits(sub, model, x, adj))
    for name, p in model.named_parameters():
        observe(f"{name} after three steps", p)


def test_unlabelled_labels_unused(sub, observe, device, gen):
    """the labels of nodes outside train_mask change nothing (the loss is over the labelled nodes only)"""
    x, adj, y, mask = graph(gen, 12, 4, 3, device)
    state = None
    results = []
    for labels in (y, torch.where(mask, y, (y + 1) % 3)):
        model = build(sub, gen, 4, 5, 3, device)
        model.dropout = 0.0
        if state is None:
            state = {k: v.clone() for k, v in model.state_dict().items()}
        model.load_state_dict(state)
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        losses = [step(sub, model, opt, x, adj, labels, mask) for _ in range(2)]
        results.append((losses, eval_logits(sub, model, x, adj)))
    expect_close(
        results[1][1], results[0][1],
        "changing the labels of nodes OUTSIDE train_mask changed the trained model: the cross-entropy must be taken "
        "over logits[train_mask] and y[train_mask] only", rtol=1e-10, atol=1e-12)
    observe("losses", results[0][0], rtol=1e-7)
    observe("logits after two steps", results[0][1])


def test_dropout(sub, observe, device, gen):
    """dropout acts on the hidden features in training mode only (about half zeroed, the rest doubled)"""
    model = build(sub, gen, 6, 200, 3, device, layer=Recorder)
    x, adj, _, _ = graph(gen, 30, 6, 3, device)
    with substitute(sub, GCNLayer=Recorder):
        Recorder.inputs = []
        model.eval()
        with torch.no_grad():
            logits = model(x, adj)
        ok = bool(len(Recorder.inputs) == 2)
        assert ok, (
            f"GCN.forward must call conv1 and conv2 once each; the layers were called {len(Recorder.inputs)} times")
        first_in, hidden = Recorder.inputs
        ok = bool(torch.equal(first_in, x))
        assert ok, (
            "conv1 must receive x itself (dropout acts on the hidden features only)")
        relu = torch.relu(model.conv1(x, adj)).detach()
        ok = bool(torch.allclose(hidden, relu))
        assert ok, (
            "in eval mode conv2 must receive relu(conv1(x, adj_norm)), with no dropout")
        Recorder.inputs = []
        model.train()
        with torch.no_grad():
            model(x, adj)
        dropped = Recorder.inputs[1]
    alive = relu > 0
    zeroed = float((dropped[alive] == 0).double().mean())
    kept = dropped[alive] != 0
    ok = bool(0.4 < zeroed < 0.6 and torch.allclose(dropped[alive][kept], 2 * relu[alive][kept]))
    assert ok, (
        f"in training mode with dropout=0.5, conv2's input must be relu(conv1(...)) with about half of the entries "
        f"zeroed and the others doubled (F.dropout); {zeroed:.0%} of the positive entries were zeroed")
    observe("logits (eval mode)", logits)


# --------------------------------------------------------------------------- integration

SIZES, P_IN, P_OUT, FEATURES, SIGNAL, PER_CLASS = (60, 60, 60), 0.1, 0.01, 16, 1.0, 5
HIDDEN, EPOCHS, LR, WEIGHT_DECAY, THRESHOLD = 16, 100, 0.01, 5e-4, 0.75


def test_learns_block_model(sub, observe, device, gen):
    """a two-layer GCN on your GCNLayer, normalize_adjacency and train_step labels a block model (5 labels a class)"""
    edges, y = stochastic_block_model(SIZES, P_IN, P_OUT, gen)
    x = community_features(y, FEATURES, SIGNAL, gen)
    train_mask, test_mask = labelled_split(y, PER_CLASS, gen)
    n = y.numel()
    adj = torch.zeros(n, n)
    adj[edges[1], edges[0]] = 1.0
    adj_norm = sub.normalize_adjacency(adj.to(device))
    model = sub.GCN(FEATURES, HIDDEN, len(SIZES))
    params = dict(model.named_parameters())
    missing = [m for m in NAMES if m not in params]
    ok = bool(not missing)
    assert ok, (
        f"GCN lacks the documented parameter(s) {missing}; it has {sorted(params)}")
    with torch.no_grad():  # Glorot-uniform weights from the test's generator: your RNG calls do not matter
        for name in NAMES:
            p = params[name]
            if name.endswith("weight"):
                bound = math.sqrt(6.0 / (p.shape[0] + p.shape[1]))
                p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=gen))
            else:
                p.zero_()
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    x, y, train_mask = x.to(device), y.to(device), train_mask.to(device)
    losses = [sub.train_step(model, opt, x, adj_norm, y, train_mask) for _ in range(EPOCHS)]
    model.eval()
    with torch.no_grad():
        pred = model(x, adj_norm).argmax(-1).cpu()
    accuracy = float((pred[test_mask] == y.cpu()[test_mask]).float().mean())
    ok = bool(math.isfinite(losses[-1]) and accuracy >= THRESHOLD)
    assert ok, (
        f"after {EPOCHS} Adam steps the GCN labels {accuracy:.1%} of the held-out nodes (the reference reaches about "
        f"94%, a network that ignores the edges about 46%; {THRESHOLD:.0%} is needed); the loss went from "
        f"{losses[0]:.3f} to {losses[-1]:.3f}. Check train_step and GCN, and since this trains your own GCNLayer on "
        "your own normalize_adjacency, their tests too")
    observe("held-out accuracy", accuracy, rtol=0.0, atol=0.25)
