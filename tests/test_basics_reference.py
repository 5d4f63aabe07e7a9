"""The basics reference solution against independent oracles.

The graded cells of solutions/basics/basics.py are checked against autograd (every backward pass,
float64, random shapes, batch 1, D = 1, random upstream gradients), F.cross_entropy (including
scores of +-1e3), closed forms (the centred difference of a cubic is exactly 3 x^2 + h^2), an
nn.Sequential with copied weights (the two-layer network), torch.optim.SGD and the unrolled sum of
the momentum recursion, and hypothesis property tests (deadline=None). The trusted stand-ins of the
hidden tests (autograder/basics/tests/_helpers.py) are checked against autograd here too: the
hidden tests inherit these facts when they compare students to the reference.
"""

import math
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.collect import load_test_module
from autograder.notebook import reference_module
from autograder.testing import substitute
from shared.data import spirals

ref = reference_module("basics")
helpers = load_test_module(Path(__file__).parents[1] / "autograder" / "basics" / "tests" / "_helpers.py",
                           "basics_reference_helpers")

F64 = torch.float64
EXACT = dict(rtol=1e-10, atol=1e-12)
requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(*shape, g, dtype=F64, scale=1.0):
    return (scale * torch.randn(shape, generator=g, dtype=F64)).to(dtype)


def vjp(fn, inputs, upstream):
    """Autograd's vector-Jacobian product of fn at inputs with the upstream gradient (float64)."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = fn(*leaves)
    return out.detach(), torch.autograd.grad(out, leaves, upstream)


# --------------------------------------------------------------------------- affine

AFFINE_SHAPES = [((1, 1), 1), ((1, 5), 3), ((7, 1), 4), ((4, 6), 1), ((3, 2, 5), 4), ((2, 3, 1, 2), 6)]


@pytest.mark.parametrize("x_shape,M", AFFINE_SHAPES)
def test_affine_matches_autograd(x_shape, M):
    g = gen(1)
    N, D = x_shape[0], math.prod(x_shape[1:])
    x, w, b, dout = randn(*x_shape, g=g), randn(D, M, g=g), randn(M, g=g), randn(N, M, g=g)
    out, cache = ref.affine_forward(x, w, b)
    dx, dw, db = ref.affine_backward(dout, cache)
    want_out, (gx, gw, gb) = vjp(lambda x_, w_, b_: F.linear(x_.reshape(N, D), w_.T, b_), (x, w, b), dout)
    for got, want in [(out, want_out), (dx, gx), (dw, gw), (db, gb)]:
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, **EXACT)


def test_affine_non_contiguous_and_float32():
    g = gen(2)
    x = randn(3, 4, 2, g=g, dtype=torch.float32).transpose(1, 2)
    w, b, dout = randn(8, 5, g=g, dtype=torch.float32), randn(5, g=g, dtype=torch.float32), randn(3, 5, g=g,
                                                                                                     dtype=torch.float32)
    out, cache = ref.affine_forward(x, w, b)
    dx, dw, db = ref.affine_backward(dout, cache)
    assert all(t.dtype == torch.float32 for t in (out, dx, dw, db))
    want_out, (gx, gw, gb) = vjp(lambda x_, w_, b_: x_.reshape(3, 8) @ w_ + b_, (x, w, b), dout)
    for got, want in [(out, want_out), (dx, gx), (dw, gw), (db, gb)]:
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- relu


@pytest.mark.parametrize("shape", [(1,), (1, 1), (5, 7), (2, 3, 4)])
def test_relu_matches_autograd(shape):
    g = gen(3)
    x, dout = randn(*shape, g=g), randn(*shape, g=g)
    x.view(-1)[0] = 0.0  # an exact zero: torch's gradient there is 0
    out, cache = ref.relu_forward(x)
    dx = ref.relu_backward(dout, cache)
    want_out, (gx,) = vjp(torch.relu, (x,), dout)
    torch.testing.assert_close(out, want_out, rtol=0, atol=0)
    torch.testing.assert_close(dx, gx, rtol=0, atol=0)
    assert dx.view(-1)[0] == 0


# --------------------------------------------------------------------------- softmax loss


@pytest.mark.parametrize("N,C", [(1, 2), (1, 7), (5, 3), (16, 10)])
@pytest.mark.parametrize("offset", [0.0, 1e3, -1e3])
def test_softmax_loss_matches_cross_entropy(N, C, offset):
    g = gen(4)
    scores, y = randn(N, C, g=g, scale=3.0) + offset, torch.randint(0, C, (N,), generator=g)
    loss, dscores = ref.softmax_loss(scores, y)
    leaf = scores.clone().requires_grad_(True)
    want = F.cross_entropy(leaf, y)
    (want_d,) = torch.autograd.grad(want, leaf)
    assert math.isfinite(float(loss)) and torch.isfinite(dscores).all()
    torch.testing.assert_close(torch.as_tensor(float(loss), dtype=F64), want.detach(), rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(dscores, want_d, rtol=1e-9, atol=1e-12)


def test_softmax_loss_right_class_far_below():
    """Scores a thousand apart within a row: the loss is about 1000, finite, and matches torch."""
    g = gen(5)
    scores, y = randn(4, 3, g=g), torch.randint(0, 3, (4,), generator=g)
    scores[torch.arange(4), y] -= 1000.0
    loss, dscores = ref.softmax_loss(scores, y)
    torch.testing.assert_close(torch.as_tensor(float(loss), dtype=F64), F.cross_entropy(scores, y), rtol=1e-12, atol=0)
    assert float(loss) > 990 and torch.isfinite(dscores).all()


def test_softmax_loss_leaves_scores_alone():
    g = gen(6)
    scores, y = randn(5, 4, g=g), torch.randint(0, 4, (5,), generator=g)
    before = scores.clone()
    ref.softmax_loss(scores, y)
    assert torch.equal(scores, before)


_scores = st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=2, max_size=6)


@settings(deadline=None, max_examples=60)
@given(rows=st.lists(_scores.filter(lambda r: len(r) == 4), min_size=1, max_size=5), data=st.data())
def test_softmax_loss_properties(rows, data):
    """For any scores up to 1e3: finite, rows of dscores sum to 0, equal to F.cross_entropy, shift invariant."""
    scores = torch.tensor(rows, dtype=F64)
    y = torch.tensor(data.draw(st.lists(st.integers(0, 3), min_size=len(rows), max_size=len(rows))))
    loss, dscores = ref.softmax_loss(scores, y)
    assert math.isfinite(float(loss)) and torch.isfinite(dscores).all()
    torch.testing.assert_close(dscores.sum(dim=1), torch.zeros(len(rows), dtype=F64), rtol=0, atol=1e-12)
    torch.testing.assert_close(torch.as_tensor(float(loss), dtype=F64), F.cross_entropy(scores, y), rtol=1e-9,
                               atol=1e-9)
    shift = data.draw(st.floats(min_value=-500, max_value=500))
    loss2, d2 = ref.softmax_loss(scores + shift, y)
    assert abs(float(loss2) - float(loss)) <= 1e-9 * max(1.0, abs(float(loss))) + 1e-9
    torch.testing.assert_close(d2, dscores, rtol=1e-8, atol=1e-12)


# --------------------------------------------------------------------------- numerical gradient

SMOOTH = {"sin-exp": lambda t: (torch.sin(t) * torch.exp(0.5 * t)).sum(),
          "logsumexp": lambda t: torch.logsumexp(t.flatten(), dim=0),
          "quartic": lambda t: (t**4 - t**2).sum() + (t.flatten()[0] * t.flatten()[-1])}


@pytest.mark.parametrize("name", list(SMOOTH))
@pytest.mark.parametrize("shape", [(), (1,), (3, 4), (2, 2, 3)])
def test_numerical_gradient_matches_autograd(name, shape):
    fn = SMOOTH[name]
    x = randn(*shape, g=gen(7))
    saved = x.clone()
    leaf = x.clone().requires_grad_(True)
    (exact,) = torch.autograd.grad(fn(leaf), leaf)
    got = ref.numerical_gradient(fn, x)
    assert torch.equal(x, saved), "x must be restored bit for bit"
    assert got.shape == x.shape and got.dtype == x.dtype
    torch.testing.assert_close(got, exact, rtol=1e-7, atol=1e-8)
    closure = ref.numerical_gradient(lambda _: float(fn(x)), x)  # f reads x itself: the in-place contract
    torch.testing.assert_close(closure, exact, rtol=1e-7, atol=1e-8)
    assert ref.rel_error(got, exact) < 1e-6


@pytest.mark.parametrize("h", [1e-1, 1e-2, 1e-3])
def test_numerical_gradient_of_a_cubic_is_exactly_centred(h):
    x = randn(5, g=gen(8))
    got = ref.numerical_gradient(lambda t: (t**3).sum(), x, h=h)
    torch.testing.assert_close(got, 3 * x**2 + h**2, rtol=1e-9, atol=1e-9)


@settings(deadline=None, max_examples=40)
@given(st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=1, max_size=8), st.data())
def test_rel_error_properties(values, data):
    """rel_error equals the entrywise maximum computed in a loop, is symmetric, 0 on equal inputs, never nan."""
    a = torch.tensor(values, dtype=F64)
    b = torch.tensor(data.draw(st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False),
                                        min_size=len(values), max_size=len(values))), dtype=F64)
    loop = max(abs(p - q) / max(1e-8, abs(p) + abs(q)) for p, q in zip(a.tolist(), b.tolist()))
    r = ref.rel_error(a, b)
    assert isinstance(r, float) and not math.isnan(r)
    assert r == pytest.approx(loop, rel=1e-12, abs=0)
    assert ref.rel_error(b, a) == pytest.approx(r, rel=1e-12, abs=0)
    assert ref.rel_error(a, a.clone()) == 0.0
    assert 0.0 <= r <= 1.0


# --------------------------------------------------------------------------- two-layer network


def net_and_model(D, H, C, reg, g):
    params = {"W1": randn(D, H, g=g, scale=0.7), "b1": randn(H, g=g, scale=0.3), "W2": randn(H, C, g=g, scale=0.7),
              "b2": randn(C, g=g, scale=0.3)}
    model = ref.TwoLayerNet(D, H, C, reg=reg)
    model.params = {k: v.clone() for k, v in params.items()}
    net = nn.Sequential(nn.Linear(D, H), nn.ReLU(), nn.Linear(H, C)).double()
    with torch.no_grad():
        net[0].weight.copy_(params["W1"].T)
        net[0].bias.copy_(params["b1"])
        net[2].weight.copy_(params["W2"].T)
        net[2].bias.copy_(params["b2"])
    return model, net


@pytest.mark.parametrize("N,D,H,C,reg", [(1, 1, 3, 2, 0.0), (5, 4, 6, 3, 0.1), (9, 2, 16, 4, 0.5)])
def test_two_layer_net_matches_sequential(N, D, H, C, reg):
    g = gen(9)
    model, net = net_and_model(D, H, C, reg, g)
    X, y = randn(N, D, g=g), torch.randint(0, C, (N,), generator=g)
    scores = model.loss(X)
    torch.testing.assert_close(scores, net(X).detach(), **EXACT)
    loss, grads = model.loss(X, y)
    torch_loss = F.cross_entropy(net(X), y) + 0.5 * reg * (net[0].weight.square().sum() + net[2].weight.square().sum())
    torch_loss.backward()
    torch.testing.assert_close(torch.as_tensor(float(loss), dtype=F64), torch_loss.detach(), **EXACT)
    want = {"W1": net[0].weight.grad.T, "b1": net[0].bias.grad, "W2": net[2].weight.grad.T, "b2": net[2].bias.grad}
    assert set(grads) == set(want)
    for k in want:
        torch.testing.assert_close(grads[k], want[k], **EXACT)


def test_two_layer_net_passes_the_gradient_check():
    """The classic check of the notebook: every parameter's gradient against the reference's numerical_gradient."""
    g = gen(10)
    model, _ = net_and_model(4, 7, 3, 0.2, g)
    X, y = randn(6, 4, g=g), torch.randint(0, 3, (6,), generator=g)
    _, grads = model.loss(X, y)
    for name, p in model.params.items():
        numeric = ref.numerical_gradient(lambda _: model.loss(X, y)[0], p)
        assert ref.rel_error(grads[name], numeric) < 1e-6, name


def test_two_layer_net_calls_layers_by_name():
    """TwoLayerNet reaches its layers through the module's names, so the hidden tests' stand-ins are used."""
    g = gen(11)
    model, _ = net_and_model(3, 5, 2, 0.1, g)
    X, y = randn(4, 3, g=g), torch.randint(0, 2, (4,), generator=g)
    calls = []

    def counting(fn, name):
        def wrapped(*args):
            calls.append(name)
            return fn(*args)
        return wrapped

    with substitute(ref, **{k: counting(v, k) for k, v in helpers.TRUSTED.items()}):
        model.loss(X, y)
    assert sorted(set(calls)) == sorted(helpers.TRUSTED)


# --------------------------------------------------------------------------- sgd with momentum


def test_sgd_momentum_closed_form_and_torch():
    """Six steps: the unrolled sum v_t = -lr sum_k mu^(t-k) g_k, and torch.optim.SGD's trajectory."""
    g = gen(12)
    lr, mu = 0.07, 0.85
    w0, grads = randn(3, 4, g=g), [randn(3, 4, g=g) for _ in range(6)]
    p = nn.Parameter(w0.clone())
    opt = torch.optim.SGD([p], lr=lr, momentum=mu)
    w, config = w0.clone(), {"learning_rate": lr, "momentum": mu}
    for t in range(6):
        w, config = ref.sgd_momentum(w, grads[t], config)
        v = -lr * sum(mu ** (t - k) * grads[k] for k in range(t + 1))
        torch.testing.assert_close(config["velocity"], v, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(w, w0 + sum(-lr * sum(mu ** (s - k) * grads[k] for k in range(s + 1))
                                               for s in range(t + 1)), rtol=1e-12, atol=1e-14)
        p.grad = grads[t].clone()
        opt.step()
        torch.testing.assert_close(w, p.detach(), rtol=1e-12, atol=1e-14)


def test_sgd_momentum_defaults_and_no_mutation():
    g = gen(13)
    w, dw = randn(5, g=g), randn(5, g=g)
    before = w.clone()
    next_w, config = ref.sgd_momentum(w, dw)
    assert config["learning_rate"] == 1e-2 and config["momentum"] == 0.9
    torch.testing.assert_close(next_w, w - 1e-2 * dw, rtol=0, atol=0)
    assert torch.equal(w, before)


# --------------------------------------------------------------------------- the hidden tests' trusted stand-ins


@pytest.mark.parametrize("x_shape,M", [((1, 1), 2), ((4, 3, 2), 5)])
def test_trusted_affine_matches_autograd(x_shape, M):
    g = gen(14)
    N, D = x_shape[0], math.prod(x_shape[1:])
    x, w, b, dout = randn(*x_shape, g=g), randn(D, M, g=g), randn(M, g=g), randn(N, M, g=g)
    out, cache = helpers.trusted_affine_forward(x, w, b)
    got = helpers.trusted_affine_backward(dout, cache)
    want_out, want = vjp(lambda x_, w_, b_: x_.reshape(N, D) @ w_ + b_, (x, w, b), dout)
    torch.testing.assert_close(out, want_out, **EXACT)
    for a, e in zip(got, want):
        torch.testing.assert_close(a, e, **EXACT)


def test_trusted_relu_and_softmax_match_autograd():
    g = gen(15)
    x, dout = randn(4, 5, g=g), randn(4, 5, g=g)
    x[0, 0] = 0.0
    out, keep = helpers.trusted_relu_forward(x)
    want_out, (gx,) = vjp(torch.relu, (x,), dout)
    torch.testing.assert_close(out, want_out, rtol=0, atol=0)
    torch.testing.assert_close(helpers.trusted_relu_backward(dout, keep), gx, rtol=0, atol=0)
    scores, y = randn(6, 4, g=g, scale=3.0) + 1e3, torch.randint(0, 4, (6,), generator=g)
    loss, dscores = helpers.trusted_softmax_loss(scores, y)
    leaf = scores.clone().requires_grad_(True)
    want = F.cross_entropy(leaf, y)
    torch.testing.assert_close(dscores, torch.autograd.grad(want, leaf)[0], **EXACT)
    torch.testing.assert_close(loss, want.detach(), **EXACT)


def test_torch_loss_and_grads_oracle_matches_reference():
    g = gen(16)
    params = helpers.net_params(g, 3, 5, 4)
    X, y = randn(7, 3, g=g), torch.randint(0, 4, (7,), generator=g)
    scores, loss, grads = helpers.torch_loss_and_grads(params, X, y, 0.3)
    model = ref.TwoLayerNet(3, 5, 4, reg=0.3)
    model.params = {k: v.clone() for k, v in params.items()}
    torch.testing.assert_close(scores, model.loss(X), **EXACT)
    ref_loss, ref_grads = model.loss(X, y)
    assert float(ref_loss) == pytest.approx(loss, rel=1e-12)
    for k in grads:
        torch.testing.assert_close(grads[k], ref_grads[k], **EXACT)


def test_trusted_sgd_momentum_matches_reference_and_leaves_config():
    g = gen(17)
    w, config, trusted_config = randn(4, g=g), {"learning_rate": 0.2, "momentum": 0.7}, {"learning_rate": 0.2,
                                                                                          "momentum": 0.7}
    tw = w.clone()
    for _ in range(4):
        dw = randn(4, g=g)
        w, config = ref.sgd_momentum(w, dw, config)
        given_config = dict(trusted_config)
        tw, trusted_config = helpers.trusted_sgd_momentum(tw, dw, trusted_config)
        assert "velocity" not in given_config or given_config["velocity"] is not trusted_config["velocity"]
        torch.testing.assert_close(tw, w, rtol=1e-14, atol=0)


# --------------------------------------------------------------------------- training


def test_train_step_learns_the_spirals():
    """The reference stack (its own layers) reaches a high held-out accuracy in the hidden test's budget."""
    X, y = spirals(600, classes=3, noise=0.2, seed=5)
    Xv, yv = spirals(600, classes=3, noise=0.2, seed=6)
    X, Xv = X.to(F64), Xv.to(F64)
    g = gen(18)
    model = ref.TwoLayerNet(2, 64, 3, reg=1e-4)
    model.params = {"W1": torch.randn(2, 64, generator=g, dtype=F64) / math.sqrt(2),
                    "b1": torch.zeros(64, dtype=F64),
                    "W2": torch.randn(64, 3, generator=g, dtype=F64) * math.sqrt(2 / 64),
                    "b2": torch.zeros(3, dtype=F64)}
    configs = {k: {"learning_rate": 0.1, "momentum": 0.9} for k in model.params}
    for _ in range(300):
        idx = torch.randint(0, 600, (64,), generator=g)
        loss = ref.train_step(model, X[idx], y[idx], configs)
        assert isinstance(loss, float)
    accuracy = (model.loss(Xv).argmax(1) == yv).double().mean().item()
    assert accuracy > 0.9


# --------------------------------------------------------------------------- device


@requires_cuda
def test_everything_runs_on_cuda():
    g = gen(19)
    dev = torch.device("cuda")
    x, w, b, dout = (t.to(dev) for t in (randn(3, 4, g=g), randn(4, 2, g=g), randn(2, g=g), randn(3, 2, g=g)))
    out, cache = ref.affine_forward(x, w, b)
    assert all(t.device.type == "cuda" for t in (out, *ref.affine_backward(dout, cache)))
    loss, d = ref.softmax_loss(out, torch.tensor([0, 1, 1], device=dev))
    assert d.device.type == "cuda"
    grad = ref.numerical_gradient(lambda t: (t**2).sum(), x.clone())
    torch.testing.assert_close(grad.cpu(), 2 * x.cpu(), rtol=1e-7, atol=1e-8)
    w2, config = ref.sgd_momentum(w, w)
    assert w2.device.type == "cuda" and config["velocity"].device.type == "cuda"
