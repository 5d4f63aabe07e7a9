"""Hidden tests of `train_step(model, X, y, configs) -> float`.

loss, grads = model.loss(X, y); for every name in model.params:
model.params[name], configs[name] = sgd_momentum(model.params[name], grads[name], configs.get(name));
return the loss (before the update) as a Python float.

The step's mechanics are tested on a toy model of the tests' own (softmax regression with its
gradients by hand, its grads dict in its own order), with the name `sgd_momentum` pointed at a
trusted step that returns a NEW config each call (so the returned config must be stored), so that
those tests depend on train_step alone. The last test is the integration test: your TwoLayerNet,
your sgd_momentum and your train_step (the layer functions replaced by trusted ones) must learn the
three spirals to a held-out accuracy the reference clears with a wide margin.
"""

import math

import pytest
import torch

from autograder.testing import expect_close, load_helpers, seeded, substitute
from shared.data import spirals

pytestmark = pytest.mark.question("train")

H = load_helpers(__file__)
F64, randn, labels = H.F64, H.randn, H.labels


class ToyModel:
    """Softmax regression with an L2 penalty, gradients by hand; its grads dict lists the keys in reverse."""

    def __init__(self, gen, D=3, C=4, reg=0.05, device="cpu"):
        self.reg = reg
        self.params = {"W": randn(gen, D, C).to(device), "b": randn(gen, C, scale=0.3).to(device),
                       "T": randn(gen, C).to(device).abs() + 0.5}  # a per-class temperature

    def loss(self, X, y=None):
        W, b, T = self.params["W"], self.params["b"], self.params["T"]
        z = X @ W + b  # (N, C)
        scores = z * T
        if y is None:
            return scores
        data_loss, dscores = H.trusted_softmax_loss(scores, y)
        loss = data_loss + 0.5 * self.reg * (W * W).sum()
        dz = dscores * T
        return loss, {"T": (dscores * z).sum(dim=0), "b": dz.sum(dim=0), "W": X.T @ dz + self.reg * W}


def train_with_trusted_step(sub, model, X, y, configs):
    before = {k: v.clone() for k, v in model.params.items()}
    with substitute(sub, sgd_momentum=H.trusted_sgd_momentum):
        loss = sub.train_step(model, X, y, configs)
    ok = bool(type(loss) is float)
    assert ok, (f"train_step must return the loss as a Python float (float(loss) or loss.item()), got "
                f"{type(loss).__name__}")
    return loss, before


def expected_step(model_before, X, y, configs_before):
    """The loss, parameters and configs one correct step leads to (the toy model's own gradients, by name)."""
    toy = ToyModel.__new__(ToyModel)
    toy.reg, toy.params = 0.05, {k: v.clone() for k, v in model_before.items()}
    loss, grads = toy.loss(X, y)
    params, configs = {}, {}
    for name, w in toy.params.items():
        params[name], configs[name] = H.trusted_sgd_momentum(w, grads[name], configs_before.get(name))
    return float(loss), params, configs


def check_step(observe, model, loss, want, configs, t):
    want_loss, want_params, want_configs = want
    expect_close(loss, want_loss, f"step {t}: train_step must return the loss of model.loss(X, y) BEFORE the update",
                 rtol=1e-12, atol=1e-14, name="returned loss")
    ok = bool(set(model.params) == set(want_params))
    assert ok, f"model.params must keep its keys {sorted(want_params)}, got {sorted(model.params)}"
    for name in want_params:
        expect_close(
            model.params[name].cpu(), want_params[name].cpu(),
            f"step {t}: model.params['{name}'] must be what sgd_momentum returns for it, given grads['{name}'] (look "
            "gradients up by name) and configs.get(name); store the new parameter in model.params[name]",
            rtol=1e-12, atol=1e-14, name=f"params['{name}']")
        got_cfg = configs.get(name)
        ok = bool(isinstance(got_cfg, dict) and isinstance(got_cfg.get("velocity"), torch.Tensor))
        assert ok, (
            f"step {t}: configs['{name}'] must be the config sgd_momentum returned for '{name}' (with its velocity): "
            "store it back, every parameter has its own")
        expect_close(got_cfg["velocity"].cpu(), want_configs[name]["velocity"].cpu(),
                     f"step {t}: configs['{name}'] must hold the velocity sgd_momentum returned for '{name}'",
                     rtol=1e-12, atol=1e-14, name=f"configs['{name}']['velocity']")
    observe(f"loss at step {t}", loss, rtol=1e-12, atol=1e-14)
    for name in want_params:
        observe(f"params['{name}'] after step {t}", model.params[name], rtol=1e-12, atol=1e-14)


def steps(sub, observe, device, gen, configs, n):
    model = ToyModel(gen, device=device)
    for t in range(1, n + 1):
        X, y = randn(gen, 6, 3).to(device), labels(gen, 6, 4).to(device)
        configs_before = {k: dict(v) for k, v in configs.items()}
        want = expected_step(model.params, X, y, configs_before)
        loss, _ = train_with_trusted_step(sub, model, X, y, configs)
        check_step(observe, model, loss, want, configs, t)


def test_one_step_from_empty_configs(sub, observe, device, gen):
    """one step from configs = {}: every parameter updated with the defaults, its config stored"""
    steps(sub, observe, device, gen, {}, 1)


def test_several_steps(sub, observe, device, gen):
    """four steps with a config per parameter: each keeps its own velocity and learning rate"""
    configs = {"W": {"learning_rate": 0.3, "momentum": 0.9}, "b": {"learning_rate": 0.1, "momentum": 0.5},
               "T": {"learning_rate": 0.05, "momentum": 0.8}}
    steps(sub, observe, device, gen, configs, 4)


def test_several_steps_from_empty_configs(sub, observe, device, gen):
    """three steps from configs = {}: the configs sgd_momentum returns are passed back the next time"""
    steps(sub, observe, device, gen, {}, 3)


def test_loss_before_update(sub, observe, device, gen):
    """returns the loss before the update (the model's loss afterwards is lower)"""
    model = ToyModel(gen, device=device)
    X, y = randn(gen, 8, 3).to(device), labels(gen, 8, 4).to(device)
    configs = {name: {"learning_rate": 0.1, "momentum": 0.9} for name in model.params}
    before = float(model.loss(X, y)[0])
    loss, _ = train_with_trusted_step(sub, model, X, y, configs)
    after = float(model.loss(X, y)[0])
    expect_close(loss, before, "train_step must return the loss computed before the parameters were updated",
                 rtol=1e-12, atol=1e-14, name="returned loss")
    ok = bool(after < before)
    assert ok, (f"one small step along the negative gradient must lower the loss ({before:.6f} -> {after:.6f}): "
                "update every parameter with what sgd_momentum returns")
    observe("returned loss", loss, rtol=1e-12, atol=1e-14)
    observe("loss went down", after < before)


# --------------------------------------------------------------------------- integration

HIDDEN, STEPS, BATCH, LR, MOMENTUM, REG, N_POINTS, THRESHOLD = 64, 300, 64, 0.1, 0.9, 1e-4, 600, 0.85


def spiral_data(k):
    """Train and held-out spirals (3 arms, float64), drawn from the test's seed."""
    X, y = spirals(N_POINTS, classes=3, noise=0.2, seed=seeded(k) % 2**32)
    Xv, yv = spirals(N_POINTS, classes=3, noise=0.2, seed=seeded(k + 1) % 2**32)
    return X.to(F64), y, Xv.to(F64), yv


def start_weights(gen):
    """He-style starting weights: unit-variance pre-activations; zero biases."""
    return {"W1": torch.randn(2, HIDDEN, generator=gen, dtype=F64) / math.sqrt(2), "b1": torch.zeros(HIDDEN, dtype=F64),
            "W2": torch.randn(HIDDEN, 3, generator=gen, dtype=F64) * math.sqrt(2 / HIDDEN),
            "b2": torch.zeros(3, dtype=F64)}


@pytest.mark.question("train", weight=2)
def test_learns_spirals(sub, observe, device, gen):
    """your TwoLayerNet, sgd_momentum and train_step learn the three spirals (held-out accuracy)"""
    X, y, Xv, yv = spiral_data(1)
    model = H.load_net(sub, start_weights(gen), REG, device)
    configs = {name: {"learning_rate": LR, "momentum": MOMENTUM} for name in model.params}
    batches = torch.Generator().manual_seed(seeded(3))
    losses = []
    with substitute(sub, **H.TRUSTED):
        for _ in range(STEPS):
            idx = torch.randint(0, N_POINTS, (BATCH,), generator=batches)
            losses.append(sub.train_step(model, X[idx].to(device), y[idx].to(device), configs))
        scores = model.loss(Xv.to(device))
    ok = bool(all(type(v) is float for v in losses))
    assert ok, "train_step must return the loss as a Python float"
    accuracy = float((scores.argmax(dim=1).cpu() == yv).double().mean())
    first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    ok = bool(math.isfinite(last) and accuracy >= THRESHOLD)
    assert ok, (
        f"after {STEPS} steps of SGD with momentum {MOMENTUM} (lr {LR}, batches of {BATCH}) your TwoLayerNet "
        f"classifies {accuracy:.1%} of held-out spiral points correctly (the reference reaches about 98%; "
        f"{THRESHOLD:.0%} is needed, chance is 33%); the training loss went from {first:.3f} to {last:.3f}. Check "
        "train_step, and since this trains your own network with your own optimizer, the mlp and sgd_momentum "
        "tests too")
    observe("held-out accuracy", accuracy, rtol=0.0, atol=1.0 - THRESHOLD)
    observe("training loss went down", last < first - 0.3)
