"""Hidden tests of `guided_eps(model, xt, t, cond, null_cond, scale) -> eps`:
eps_uncond + scale (eps_cond - eps_uncond), with eps_c = model(xt, t, cond), eps_u = model(xt, t, null_cond),
in one batched model call or two.
"""


import pytest
import torch

from autograder.testing import load_helpers

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("guidance")

N_CLASSES = 5  # labels 0..4, the null label is 5


class ClassModel(torch.nn.Module):
    """eps(x, t, c) = tanh(w[c] x + b[c]) + 0.01 t, per sample (a batched call gives the same rows)."""

    def __init__(self, gen):
        super().__init__()
        self.w = torch.randn(N_CLASSES + 1, generator=gen, dtype=F64)
        self.b = torch.randn(N_CLASSES + 1, generator=gen, dtype=F64)
        self.calls = 0

    def forward(self, x, t, c):
        self.calls += 1
        view = (-1,) + (1,) * (x.dim() - 1)
        w, b = self.w.to(x.device)[c].view(view), self.b.to(x.device)[c].view(view)
        return (torch.tanh(w * x + b) + 0.01 * t.view(view)).to(x.dtype)


def inputs(gen, shape, dtype=F64):
    x = torch.randn(shape, generator=gen, dtype=F64).to(dtype)
    t = torch.randint(0, 100, (shape[0],), generator=gen)
    cond = torch.randint(0, N_CLASSES, (shape[0],), generator=gen)
    return x, t, cond, torch.full_like(cond, N_CLASSES)


def run(sub, device, model, x, t, cond, null, scale):
    out = sub.guided_eps(model, x.to(device), t.to(device), cond.to(device), null.to(device), scale)
    assert isinstance(out, torch.Tensor) and out.shape == x.shape, f"guided_eps must return xt's shape {tuple(x.shape)}"
    return out.cpu()


@pytest.mark.parametrize("scale", [0.0, 1.0, 2.5, 7.5, -0.5])
@pytest.mark.parametrize("shape", [(6, 2), (4, 1, 3, 3)], ids=["points", "images"])
def test_values(sub, observe, device, gen, shape, scale):
    """matches the reference for several guidance scales"""
    model = ClassModel(gen)
    x, t, cond, null = inputs(gen, shape)
    out = run(sub, device, model, x, t, cond, null, scale)
    observe("guided eps", out)
    assert model.calls in (1, 2), f"guided_eps should call the model once (batched) or twice, not {model.calls} times"


def test_scale_zero_and_one(sub, observe, device, gen):
    """scale 0 gives the unconditional prediction, scale 1 the conditional one"""
    model = ClassModel(gen)
    x, t, cond, null = inputs(gen, (8, 3))
    zero, one = run(sub, device, model, x, t, cond, null, 0.0), run(sub, device, model, x, t, cond, null, 1.0)
    uncond, conditional = model(x, t, null), model(x, t, cond)
    ok0, ok1 = torch.allclose(zero, uncond, atol=1e-12), torch.allclose(one, conditional, atol=1e-12)
    assert ok0, "with scale 0 guided_eps must return the unconditional prediction model(xt, t, null_cond)"
    assert ok1, "with scale 1 guided_eps must return the conditional prediction model(xt, t, cond)"
    observe("scale 0 is unconditional", ok0)
    observe("scale 1 is conditional", ok1)


def test_linear_in_scale(sub, observe, device, gen):
    """the guided prediction moves along eps_cond - eps_uncond, linearly in the scale"""
    model = ClassModel(gen)
    x, t, cond, null = inputs(gen, (8, 2))
    e2, e4 = run(sub, device, model, x, t, cond, null, 2.0), run(sub, device, model, x, t, cond, null, 4.0)
    step = e4 - e2
    direction = 2.0 * (model(x, t, cond) - model(x, t, null))
    ok = torch.allclose(step, direction, atol=1e-10)
    assert ok, ("going from scale 2 to scale 4 must add 2 (eps_cond - eps_uncond): guide away from the unconditional "
                "prediction, towards the conditional one")
    observe("linear in the scale", ok)


def test_float32(sub, observe, device, gen):
    """float32 inputs stay float32"""
    model = ClassModel(gen)
    x, t, cond, null = inputs(gen, (5, 2), torch.float32)
    out = run(sub, device, model, x, t, cond, null, 3.0)
    observe("guided eps", out)
