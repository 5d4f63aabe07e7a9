"""Inputs, oracles and trusted stand-ins shared by the basics hidden tests (not a test file: the grader
collects only test_*.py). Each test file loads this file with ``load_helpers(__file__)``, which registers
it as trusted without making it importable by name.

- ``randn``, ``away_from_zero``, ``labels``: inputs drawn from the test's generator.
- ``unchanged``: checks that a student's function left its inputs as they were (exactly).
- ``as_float``: a loss returned as a 0-d tensor or a Python float, checked and converted.
- ``TRUSTED``: by-hand stand-ins for the layer functions (``affine_forward``/``affine_backward`` with
  einsum, ``relu_forward``/``relu_backward`` with a boolean mask, ``softmax_loss`` with torch's
  logsumexp and softmax), so that the ``mlp`` and ``train`` tests depend on those questions alone;
  checked against autograd in tests/test_basics_reference.py.
- ``torch_net``, ``torch_loss_and_grads``: the oracle for the two-layer network, an ``nn.Sequential``
  with the same weights, differentiated by autograd.
- ``trusted_sgd_momentum``: CS231n's momentum step that returns a NEW config dict (it never modifies
  the one it is given), so a train_step that ignores the returned config loses its velocity.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

F64 = torch.float64
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def randn(gen, *shape, dtype=F64, scale=1.0):
    """Drawn in float64 from ``gen`` (the same numbers whatever the dtype), then cast."""
    return (scale * torch.randn(shape, generator=gen, dtype=F64)).to(dtype)


def away_from_zero(gen, *shape, margin=0.05, dtype=F64):
    """Standard normal entries pushed at least ``margin`` away from 0 (no ReLU kink within reach)."""
    x = torch.randn(*shape, generator=gen, dtype=F64)
    return (x + margin * torch.where(x >= 0, 1.0, -1.0).to(F64)).to(dtype)


def labels(gen, N, C):
    return torch.randint(0, C, (N,), generator=gen)


def unchanged(before: dict, after: dict, who: str):
    """Every named input is bit for bit what it was before ``who`` ran."""
    for name, old in before.items():
        new = after[name]
        ok = bool(new.shape == old.shape and torch.equal(new, old))
        assert ok, (
            f"{who} modified its input `{name}` in place; compute on new tensors (e.g. x.clamp(min=0), not "
            "x.clamp_(min=0); a -= b changes a): the caller still needs its tensors")


def as_float(loss, who: str) -> float:
    ok = bool(type(loss) is float or (type(loss) is torch.Tensor and loss.numel() == 1 and loss.dim() == 0))
    assert ok, (
        f"{who} must return the loss as a 0-d tensor or a Python float, got "
        f"{tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__}")
    return float(loss)


def check_shape(t, shape, what: str):
    ok = bool(isinstance(t, torch.Tensor) and tuple(t.shape) == tuple(shape))
    got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
    assert ok, f"{what} must have shape {tuple(shape)}, got {got}"


# --------------------------------------------------------------------------- trusted layer functions


def trusted_affine_forward(x, w, b):
    return torch.einsum("nd,dm->nm", x.flatten(1), w) + b, {"x": x, "w": w}


def trusted_affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    x2d = x.flatten(1)
    dx = torch.einsum("nm,dm->nd", dout, w).reshape(x.shape)
    return dx, torch.einsum("nd,nm->dm", x2d, dout), dout.sum(dim=0)


def trusted_relu_forward(x):
    keep = x > 0
    return torch.where(keep, x, torch.zeros_like(x)), keep


def trusted_relu_backward(dout, keep):
    return dout * keep.to(dout.dtype)


def trusted_softmax_loss(scores, y):
    N, C = scores.shape
    log_norm = torch.logsumexp(scores, dim=1)  # (N,)
    loss = (log_norm - scores.gather(1, y[:, None])[:, 0]).mean()
    dscores = (torch.softmax(scores, dim=1) - F.one_hot(y, C).to(scores.dtype)) / N
    return loss, dscores


TRUSTED = {"affine_forward": trusted_affine_forward, "affine_backward": trusted_affine_backward,
           "relu_forward": trusted_relu_forward, "relu_backward": trusted_relu_backward,
           "softmax_loss": trusted_softmax_loss}


# --------------------------------------------------------------------------- the two-layer network oracle


def net_params(gen, D, H, C, scale=0.7):
    """Weights for a TwoLayerNet (biases nonzero, so a missing bias or its gradient shows)."""
    return {"W1": randn(gen, D, H, scale=scale), "b1": randn(gen, H, scale=0.3),
            "W2": randn(gen, H, C, scale=scale), "b2": randn(gen, C, scale=0.3)}


def load_net(sub, params, reg, device):
    """The student's TwoLayerNet with these weights, found by their documented names."""
    D, H = params["W1"].shape
    C = params["W2"].shape[1]
    model = sub.TwoLayerNet(D, H, C, reg=reg)
    ok = bool(isinstance(getattr(model, "params", None), dict))
    assert ok, "TwoLayerNet must keep its parameters in the dict self.params (the skeleton's constructor)"
    missing = [n for n in PARAM_NAMES if n not in model.params]
    assert not missing, f"TwoLayerNet.params lacks {missing}: keep the skeleton's names W1, b1, W2, b2"
    for name in PARAM_NAMES:
        model.params[name] = params[name].clone().to(device)
    return model


def torch_net(params):
    net = nn.Sequential(nn.Linear(*params["W1"].shape), nn.ReLU(), nn.Linear(*params["W2"].shape)).to(F64)
    with torch.no_grad():
        net[0].weight.copy_(params["W1"].T)
        net[0].bias.copy_(params["b1"])
        net[2].weight.copy_(params["W2"].T)
        net[2].bias.copy_(params["b2"])
    return net


def torch_loss_and_grads(params, X, y, reg):
    """(scores, loss, grads) of the two-layer network by nn.Sequential, F.cross_entropy and autograd (float64, CPU)."""
    net = torch_net({k: v.cpu() for k, v in params.items()})
    X, y = X.cpu(), y.cpu()
    with torch.enable_grad():
        scores = net(X)
        loss = F.cross_entropy(scores, y) + 0.5 * reg * (net[0].weight.square().sum() + net[2].weight.square().sum())
        gW1, gb1, gW2, gb2 = torch.autograd.grad(loss, [net[0].weight, net[0].bias, net[2].weight, net[2].bias])
    return scores.detach(), float(loss.detach()), {"W1": gW1.T, "b1": gb1, "W2": gW2.T, "b2": gb2}


# --------------------------------------------------------------------------- optimizer


def trusted_sgd_momentum(w, dw, config=None):
    config = dict(config or {})  # a new dict: the caller's is left as it was
    lr, mu = config.setdefault("learning_rate", 1e-2), config.setdefault("momentum", 0.9)
    velocity = config.get("velocity")
    velocity = mu * (velocity if velocity is not None else torch.zeros_like(w)) - lr * dw
    config["velocity"] = velocity
    return w + velocity, config
