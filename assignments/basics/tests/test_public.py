"""Public tests of the basics assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). The tests judge your gradients against autograd, which your own cells
may not use. The hidden tests check the same things more thoroughly: more shapes (batch 1, D = 1,
inputs with more dimensions, non-contiguous ones), float32, scores of magnitude 1000, tensors that
must not be modified, several optimizer steps, and, for `train`, a short training run on the spirals.

Questions build on each other, but each is graded on its own: while TwoLayerNet's tests run, the
layer functions it calls are pointed at stand-ins (`substitute`), and train_step's tests hand it a
toy model and a stand-in for sgd_momentum. Call them BY NAME. The stand-ins here are built on
autograd and torch.optim.SGD, which your cells may not use.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import expect_close, expect_equal, substitute

F64 = torch.float64
# Observations are compared with snapshots.json, which stores float64 values to 10 significant digits:
# they use this tolerance; the strict checks are the expect_close calls against autograd, run live.
SNAPSHOT = dict(rtol=1e-8, atol=1e-12)


def randn(gen, *shape, scale=1.0):
    return scale * torch.randn(*shape, generator=gen, dtype=F64)


def gradient_by_autograd(fn, *tensors, upstream=None):
    """Autograd's gradient of fn(*tensors) (times `upstream`, summed) with respect to each tensor, on the CPU."""
    leaves = [t.detach().clone().requires_grad_(True) for t in tensors]
    with torch.enable_grad():
        out = fn(*leaves)
        total = out if upstream is None else (out * upstream).sum()
        return tuple(g.cpu() for g in torch.autograd.grad(total, leaves))


# --------------------------------------------------------------------------- numerical_gradient


@pytest.mark.question("numerical_gradient")
def test_numerical_gradient(sub, observe, device, gen):
    """matches autograd on a smooth function; x is restored exactly; a closure over x works too"""
    x = randn(gen, 3, 4).to(device)
    fn = lambda t: (torch.sin(t) * torch.exp(0.5 * t)).sum()  # noqa: E731
    saved = x.clone()
    grad = sub.numerical_gradient(fn, x)
    expect_equal(x, saved, "numerical_gradient must leave x exactly as it found it (save each value, assign it back)",
                 name="x afterwards")
    ok = bool(isinstance(grad, torch.Tensor) and grad.shape == x.shape and grad.dtype == x.dtype)
    assert ok, f"the gradient must be a tensor of x's shape {tuple(x.shape)} and dtype {x.dtype}"
    (exact,) = gradient_by_autograd(fn, x)
    expect_close(grad.cpu(), exact, "the centred difference with h = 1e-5 is within about 1e-9 of the gradient",
                 rtol=1e-6, atol=1e-8, name="numerical gradient")
    closure = sub.numerical_gradient(lambda _: float(fn(x)), x)
    expect_close(closure.cpu(), exact, "f = lambda _: ... reads x itself: perturb x IN PLACE, not a copy",
                 rtol=1e-6, atol=1e-8, name="numerical gradient (closure)")
    observe("gradient", grad, rtol=1e-6, atol=1e-8)


@pytest.mark.question("numerical_gradient")
def test_rel_error(sub, observe, device, gen):
    """is 0 for equal tensors, 1 for opposite ones, symmetric, and matches the reference"""
    a = randn(gen, 4, 3).to(device)
    b = a * (1 + 1e-3 * randn(gen, 4, 3).to(device))
    r = sub.rel_error(a, b)
    ok = bool(type(r) is float or (type(r) is torch.Tensor and r.numel() == 1))
    assert ok, f"rel_error must return a Python float, got {type(r).__name__}"
    ok = bool(float(sub.rel_error(a, a)) == 0.0 and abs(float(sub.rel_error(a, -a)) - 1.0) < 1e-12)
    assert ok, "rel_error(a, a) must be 0 and rel_error(a, -a) must be 1: |a - b| / (|a| + |b|)"
    expect_close(float(sub.rel_error(b, a)), float(r), "rel_error(a, b) must equal rel_error(b, a)", rtol=1e-12,
                 atol=0.0, name="rel_error(b, a)")
    observe("rel_error", float(r), **SNAPSHOT)


# --------------------------------------------------------------------------- layers


@pytest.mark.question("affine")
@pytest.mark.parametrize("x_shape", [(4, 5), (3, 2, 3)], ids=["4x5", "3x2x3"])
def test_affine(sub, observe, device, gen, x_shape):
    """forward and backward match autograd for a random upstream gradient"""
    D = math.prod(x_shape[1:])
    x, w, b = randn(gen, *x_shape).to(device), randn(gen, D, 3).to(device), randn(gen, 3).to(device)
    dout = randn(gen, x_shape[0], 3).to(device)
    out, cache = sub.affine_forward(x, w, b)
    ok = bool(isinstance(out, torch.Tensor) and out.shape == (x_shape[0], 3))
    assert ok, f"out must have shape (N, M) = {(x_shape[0], 3)}"
    dx, dw, db = sub.affine_backward(dout, cache)
    ok = bool(dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape)
    assert ok, (f"dx, dw, db must have the shapes of x, w, b: {tuple(x.shape)}, {tuple(w.shape)}, {tuple(b.shape)}; "
                f"got {tuple(dx.shape)}, {tuple(dw.shape)}, {tuple(db.shape)}")
    want = gradient_by_autograd(lambda x_, w_, b_: x_.reshape(x_.shape[0], -1) @ w_ + b_, x, w, b, upstream=dout)
    for name, got, exp in zip(("dx", "dw", "db"), (dx, dw, db), want):
        expect_close(got.cpu(), exp, f"{name} differs from autograd's gradient", rtol=1e-10, atol=1e-12, name=name)
    observe("out", out)
    for name, got in zip(("dx", "dw", "db"), (dx, dw, db)):
        observe(name, got)


@pytest.mark.question("relu")
def test_relu(sub, observe, device, gen):
    """forward and backward match torch.relu and autograd"""
    x = randn(gen, 4, 5)
    x = (x + 0.05 * torch.where(x >= 0, 1.0, -1.0).to(F64)).to(device)  # away from the kink at 0
    dout = randn(gen, 4, 5).to(device)
    out, cache = sub.relu_forward(x)
    dx = sub.relu_backward(dout, cache)
    ok = bool(out.shape == x.shape and dx.shape == x.shape)
    assert ok, "out and dx must have x's shape"
    expect_close(out.cpu(), torch.relu(x).cpu(), "out must be max(x, 0)", rtol=0.0, atol=0.0, name="out")
    (want,) = gradient_by_autograd(torch.relu, x, upstream=dout)
    expect_close(dx.cpu(), want, "dx must be dout where x > 0 and 0 elsewhere", rtol=0.0, atol=0.0, name="dx")
    observe("out", out)
    observe("dx", dx)


@pytest.mark.question("softmax_loss")
@pytest.mark.parametrize("scale", [1.0, 1000.0], ids=["scores", "scores-x1000"])
def test_softmax_loss(sub, observe, device, gen, scale):
    """loss and dscores match F.cross_entropy and autograd, also for scores of magnitude 1000"""
    scores, y = randn(gen, 5, 4, scale=scale).to(device), torch.randint(0, 4, (5,), generator=gen).to(device)
    loss, dscores = sub.softmax_loss(scores, y)
    loss = float(loss)
    ok = bool(math.isfinite(loss) and torch.isfinite(dscores).all() and dscores.shape == scores.shape)
    assert ok, "loss must be finite and dscores a finite (N, C) tensor: subtract each row's max, use log-sum-exp"
    expect_close(loss, F.cross_entropy(scores.cpu(), y.cpu()).item(), "the loss is the mean cross-entropy",
                 rtol=1e-9, atol=1e-12, name="loss")
    (want,) = gradient_by_autograd(lambda s: F.cross_entropy(s, y), scores)
    expect_close(dscores.cpu(), want, "dscores = (softmax(scores) - onehot(y)) / N", rtol=1e-9, atol=1e-12,
                 name="dscores")
    observe("loss", loss, **SNAPSHOT)
    observe("dscores", dscores, **SNAPSHOT)


# --------------------------------------------------------------------------- stand-ins for the network's layers


def autograd_affine_forward(x, w, b):
    """Stands in for affine_forward: torch's F.linear, with the graph kept in the cache for the backward pass."""
    with torch.enable_grad():
        leaves = [t.detach().requires_grad_(True) for t in (x, w, b)]
        out = F.linear(leaves[0].reshape(x.shape[0], -1), leaves[1].T, leaves[2])
    return out.detach(), (leaves, out)


def autograd_affine_backward(dout, cache):
    """Stands in for affine_backward: autograd's gradients (dx shaped like x)."""
    leaves, out = cache
    return tuple(torch.autograd.grad(out, leaves, dout, retain_graph=True))


def autograd_relu_forward(x):
    with torch.enable_grad():
        leaf = x.detach().requires_grad_(True)
        out = F.relu(leaf)
    return out.detach(), (leaf, out)


def autograd_relu_backward(dout, cache):
    leaf, out = cache
    return torch.autograd.grad(out, leaf, dout, retain_graph=True)[0]


def autograd_softmax_loss(scores, y):
    """Stands in for softmax_loss: F.cross_entropy and autograd's gradient."""
    with torch.enable_grad():
        leaf = scores.detach().requires_grad_(True)
        loss = F.cross_entropy(leaf, y)
        (dscores,) = torch.autograd.grad(loss, leaf)
    return loss.detach(), dscores


STAND_INS = {"affine_forward": autograd_affine_forward, "affine_backward": autograd_affine_backward,
             "relu_forward": autograd_relu_forward, "relu_backward": autograd_relu_backward,
             "softmax_loss": autograd_softmax_loss}


@pytest.mark.question("mlp")
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_two_layer_net(sub, observe, device, gen, reg):
    """scores, loss and gradients match an nn.Sequential differentiated by autograd"""
    D, Hd, C, N = 4, 6, 3, 5
    params = {"W1": randn(gen, D, Hd, scale=0.7), "b1": randn(gen, Hd, scale=0.3), "W2": randn(gen, Hd, C, scale=0.7),
              "b2": randn(gen, C, scale=0.3)}
    X, y = randn(gen, N, D), torch.randint(0, C, (N,), generator=gen)
    model = sub.TwoLayerNet(D, Hd, C, reg=reg)
    for name, value in params.items():
        model.params[name] = value.clone().to(device)
    with substitute(sub, **STAND_INS):
        scores = model.loss(X.to(device))
        loss, grads = model.loss(X.to(device), y.to(device))
    ok = bool(set(grads) == {"W1", "b1", "W2", "b2"})
    assert ok, f"grads must have the keys of params (W1, b1, W2, b2), got {sorted(grads)}"

    def reference_loss(W1, b1, W2, b2):
        return F.cross_entropy(F.relu(X @ W1 + b1) @ W2 + b2, y) + 0.5 * reg * ((W1**2).sum() + (W2**2).sum())

    want = dict(zip(params, gradient_by_autograd(reference_loss, *params.values())))
    expect_close(scores.cpu(), F.relu(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"],
                 "scores = relu(X W1 + b1) W2 + b2 (raw scores when y is None)", rtol=1e-10, atol=1e-12, name="scores")
    expect_close(float(loss), reference_loss(*params.values()).item(),
                 "loss = mean cross-entropy + 0.5 * reg * (||W1||^2 + ||W2||^2)", rtol=1e-10, atol=1e-12, name="loss")
    for name in params:
        expect_close(grads[name].cpu(), want[name], f"grads['{name}'] differs from autograd's (reg = {reg})",
                     rtol=1e-9, atol=1e-12, name=f"grads['{name}']")
    observe("scores", scores)
    observe("loss", float(loss), **SNAPSHOT)
    for name in params:
        observe(f"grads['{name}']", grads[name], **SNAPSHOT)


# --------------------------------------------------------------------------- optimizer and training step


@pytest.mark.question("sgd_momentum")
def test_sgd_momentum(sub, observe, device, gen):
    """three steps follow v = mu v - lr dw, w = w + v, with the velocity kept in config"""
    w0 = randn(gen, 3, 2)
    dws = [randn(gen, 3, 2) for _ in range(3)]
    w, config = w0.to(device), {"learning_rate": 0.1, "momentum": 0.8}
    v_want, w_want = torch.zeros_like(w0), w0
    for t, dw in enumerate(dws):
        w, config = sub.sgd_momentum(w, dw.to(device), config)
        v_want = 0.8 * v_want - 0.1 * dw
        w_want = w_want + v_want
        expect_close(w.cpu(), w_want, f"after step {t + 1}, next_w = w + v with v = momentum * v - lr * dw",
                     rtol=1e-12, atol=1e-14, name="next_w")
        expect_close(config["velocity"].cpu(), v_want, f"after step {t + 1}, config['velocity'] = the new v",
                     rtol=1e-12, atol=1e-14, name="config['velocity']")
        observe(f"w after step {t + 1}", w)


def torch_sgd_momentum(w, dw, config=None):
    """Stands in for sgd_momentum: one step of torch.optim.SGD, its buffer b kept as the velocity -lr * b."""
    config = dict(config or {})
    lr, mu = config.setdefault("learning_rate", 1e-2), config.setdefault("momentum", 0.9)
    p = torch.nn.Parameter(w.detach().clone())
    opt = torch.optim.SGD([p], lr=lr, momentum=mu)
    if config.get("velocity") is not None:
        opt.state[p]["momentum_buffer"] = -config["velocity"] / lr
    p.grad = dw.detach().clone()
    opt.step()
    config["velocity"] = -lr * opt.state[p]["momentum_buffer"]
    return p.detach(), config


class ToyModel:
    """Linear regression with a squared error, gradients by autograd: a stand-in for a network with .params and .loss."""

    def __init__(self, gen, device):
        self.params = {"W": randn(gen, 3, 2).to(device), "b": randn(gen, 2).to(device)}

    def loss(self, X, y=None):
        def mse(W, b):
            return 0.5 * ((X @ W + b - y) ** 2).sum(dim=1).mean()

        gW, gb = gradient_by_autograd(mse, self.params["W"], self.params["b"])
        return mse(self.params["W"], self.params["b"]), {"W": gW.to(X.device), "b": gb.to(X.device)}


@pytest.mark.question("train")
def test_train_step(sub, observe, device, gen):
    """two steps update every parameter with its own config and return the loss before each update"""
    model = ToyModel(gen, device)
    configs = {"W": {"learning_rate": 0.2, "momentum": 0.9}}  # "b" gets the defaults: configs.get("b") is None
    for t in range(2):
        X, y = randn(gen, 4, 3).to(device), randn(gen, 4, 2).to(device)
        before = float(model.loss(X, y)[0])
        with substitute(sub, sgd_momentum=torch_sgd_momentum):
            loss = sub.train_step(model, X, y, configs)
        ok = bool(type(loss) is float)
        assert ok, f"train_step must return a Python float, got {type(loss).__name__}"
        expect_close(loss, before, "train_step returns the loss before the update", rtol=1e-12, atol=1e-14,
                     name="returned loss")
        ok = bool(set(configs) == {"W", "b"} and all("velocity" in c for c in configs.values()))
        assert ok, "configs[name] must hold the config sgd_momentum returned for each parameter"
        observe(f"loss at step {t + 1}", loss, **SNAPSHOT)
        for name, value in model.params.items():
            observe(f"params['{name}'] after step {t + 1}", value)
