"""Hidden tests of `batch_norm(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5)`.

F.batch_norm's semantics. Training: per-channel mean and BIASED variance over every dimension but
the channels (N for (N, C), N, H, W for (N, C, H, W)); running_mean and running_var updated IN PLACE
with (1 - momentum) * running + momentum * batch statistic, the variance term UNBIASED (m / (m - 1)).
Eval: normalise with the running statistics and leave them unchanged. eps sits inside the square
root (a channel with a tiny variance shows it). Gradients: torch.autograd.gradcheck in float64 for
x, weight and bias, in both modes, plus the reference's gradients for a random upstream gradient.
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("batch_norm")

helpers = load_helpers(__file__)
F64, randn = helpers.F64, helpers.randn


def make(gen, shape, device, dtype=F64, tiny_channel=False):
    """x with channel-dependent means and scales, running statistics, weight and bias."""
    C = shape[1]
    view = [1, C] + [1] * (len(shape) - 2)
    scale = 0.5 + 3.0 * torch.rand(C, generator=gen, dtype=F64)
    if tiny_channel:
        scale[0] = 1e-3  # variance 1e-6 < eps: eps outside the square root changes the result a lot
    x = randn(gen, *shape) * scale.reshape(view) + 4.0 * randn(gen, C).reshape(view)
    rm, rv = randn(gen, C), 0.5 + torch.rand(C, generator=gen, dtype=F64)
    w, b = 1.0 + 0.5 * randn(gen, C), randn(gen, C)
    return [t.to(dtype).to(device) for t in (x, rm, rv, w, b)]


def check_shape(out, x):
    assert isinstance(out, torch.Tensor), f"batch_norm must return a tensor, got {type(out).__name__}"
    assert out.shape == x.shape, f"batch_norm output shape {tuple(out.shape)} should equal the input's {tuple(x.shape)}"


SHAPES = [(8, 3), (5, 4, 3, 2), (2, 3, 5, 4), (16, 1)]
IDS = ["x".join(map(str, s)) for s in SHAPES]


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_training(sub, observe, device, gen, shape, momentum):
    """training mode: normalises with batch statistics and updates the running statistics in place"""
    x, rm, rv, w, b = make(gen, shape, device)
    rm_ptr, rv_ptr = rm.data_ptr(), rv.data_ptr()
    out = sub.batch_norm(x, rm, rv, w, b, True, momentum=momentum)
    check_shape(out, x)
    observe("output", out)
    observe("running_mean after the call", rm)
    observe("running_var after the call", rv)
    assert rm.data_ptr() == rm_ptr and rv.data_ptr() == rv_ptr, "update running_mean and running_var in place"


@pytest.mark.parametrize("shape", SHAPES[:3], ids=IDS[:3])
def test_default_momentum(sub, observe, device, gen, shape):
    """uses momentum 0.1 and eps 1e-5 by default, over three consecutive training calls"""
    x, rm, rv, w, b = make(gen, shape, device)
    for step in range(3):
        out = sub.batch_norm(x + step, rm, rv, w, b, True)
        check_shape(out, x)
        observe(f"output of call {step + 1}", out)
        observe(f"running_mean after call {step + 1}", rm)
        observe(f"running_var after call {step + 1}", rv)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_eval(sub, observe, device, gen, shape):
    """eval mode: normalises with the running statistics and leaves them unchanged"""
    x, rm, rv, w, b = make(gen, shape, device)
    rm0, rv0 = rm.clone(), rv.clone()
    out = sub.batch_norm(x, rm, rv, w, b, False)
    check_shape(out, x)
    assert torch.equal(rm, rm0) and torch.equal(rv, rv0), (
        "batch_norm changed the running statistics with training=False: evaluation only reads them"
    )
    observe("output", out)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_tiny_variance_channel(sub, observe, device, gen, training):
    """adds eps to the variance inside the square root (a channel with variance below eps)"""
    x, rm, rv, w, b = make(gen, (6, 3, 3, 3), device, tiny_channel=True)
    if not training:
        rv[0] = 1e-6
    out = sub.batch_norm(x, rm, rv, w, b, training, eps=1e-5)
    check_shape(out, x)
    observe("output", out)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_normalised_statistics(sub, observe, device, gen, training):
    """training mode with weight 1 and bias 0 gives per-channel mean 0 and biased variance about 1"""
    x, rm, rv, _, _ = make(gen, (6, 3, 4, 4), device)
    C = x.shape[1]
    w, b = torch.ones(C, dtype=F64).to(device), torch.zeros(C, dtype=F64).to(device)
    out = sub.batch_norm(x, rm, rv, w, b, training)
    check_shape(out, x)
    mean, var = out.mean(dim=(0, 2, 3)), out.var(dim=(0, 2, 3), unbiased=False)
    if training:
        assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-6), (
            f"in training mode every channel of the output must have mean 0 (weight 1, bias 0); got {mean.tolist()}"
        )
        assert torch.allclose(var, torch.ones_like(var), atol=1e-3), (
            f"in training mode every channel must have (biased) variance var / (var + eps) ~ 1; got {var.tolist()}: "
            "normalise with the biased variance (unbiased=False), the unbiased one is only for running_var"
        )
    observe("per-channel mean", mean)
    observe("per-channel variance", var)


@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 3, 2)], ids=["2d", "4d"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_gradcheck(sub, observe, device, gen, shape, training):
    """has correct gradients for x, weight and bias (torch.autograd.gradcheck, float64)"""
    x, rm, rv, w, b = make(gen, shape, device)
    x, w, b = (t.clone().requires_grad_(True) for t in (x, w, b))

    def fn(x, w, b):
        return sub.batch_norm(x, rm.clone(), rv.clone(), w, b, training)

    ok = torch.autograd.gradcheck(fn, (x, w, b), raise_exception=False)
    assert ok, (
        "the gradients of batch_norm do not match finite differences: in training mode the batch mean and variance "
        "depend on x and must stay on the autograd graph"
    )
    observe("gradcheck passes", bool(ok))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_gradient_values(sub, observe, device, gen, training):
    """gives the reference's gradients for a random upstream gradient; running statistics get none"""
    x, rm, rv, w, b = make(gen, (4, 3, 3, 3), device)
    x, w, b = (t.clone().requires_grad_(True) for t in (x, w, b))
    out = sub.batch_norm(x, rm, rv, w, b, training)
    check_shape(out, x)
    (out * randn(gen, *out.shape).to(device)).sum().backward()
    assert not rm.requires_grad and not rv.requires_grad, (
        "running_mean / running_var ended up on the autograd graph: update them under torch.no_grad() "
        "(or from detached batch statistics)"
    )
    for name, t in {"x": x, "weight": w, "bias": b}.items():
        assert t.grad is not None, f"no gradient reached {name}"
        observe(f"{name}.grad", t.grad)


def test_float32(sub, observe, device, gen):
    """keeps float32 inputs float32"""
    x, rm, rv, w, b = make(gen, (8, 3, 2, 2), device, dtype=torch.float32)
    out = sub.batch_norm(x, rm, rv, w, b, True)
    check_shape(out, x)
    assert out.dtype == torch.float32, f"batch_norm of float32 inputs returned {out.dtype}"
    observe("output", out)
    observe("running_var after the call", rv)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points (the question's 26 hidden and 2 public tests weigh 1 each), so that a batch norm wrong in one mode
# (training or evaluation) or in one part of it (the output, the running statistics) keeps at most a third; the
# tests above say which part.
@pytest.mark.question("batch_norm", weight=56)
def test_whole_contract(sub, observe, device, gen):
    """training (output and running statistics), three calls with the defaults, evaluation, eps inside the square
    root, gradients in both modes"""
    test_training(sub, observe, device, gen, SHAPES[2], 0.3)
    test_default_momentum(sub, observe, device, gen, SHAPES[0])
    test_eval(sub, observe, device, gen, SHAPES[1])
    test_tiny_variance_channel(sub, observe, device, gen, True)
    test_gradient_values(sub, observe, device, gen, True)
    test_gradient_values(sub, observe, device, gen, False)
