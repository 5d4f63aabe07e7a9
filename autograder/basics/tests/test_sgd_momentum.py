"""Hidden tests of `sgd_momentum(w, dw, config=None) -> (next_w, config)` (CS231n's convention).

v = momentum * v - learning_rate * dw (v starts at zeros); next_w = w + v; config["velocity"] = v;
defaults learning_rate 1e-2, momentum 0.9; w itself is left unchanged.

Oracles: the closed form v_t = -sum_k momentum^(t-k) lr_k dw_k, computed by the tests, and
torch.optim.SGD, whose buffer b satisfies v = -lr b while the learning rate is constant. Every test
runs several steps, passing back the config each step returned, and checks w, the stored velocity
and that neither w nor dw was modified.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

pytestmark = pytest.mark.question("sgd_momentum")

H = load_helpers(__file__)
F64, randn, unchanged = H.F64, H.randn, H.unchanged


def step(sub, w, dw, config):
    before = {"w": w.clone(), "dw": dw.clone()}
    out = sub.sgd_momentum(w, dw, config)
    ok = bool(isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict))
    assert ok, "sgd_momentum must return the pair (next_w, config) with config a dict"
    next_w, config = out
    ok = bool(isinstance(next_w, torch.Tensor) and next_w.shape == w.shape and next_w.dtype == w.dtype)
    assert ok, f"next_w must be a tensor of w's shape {tuple(w.shape)} and dtype {w.dtype}"
    velocity = config.get("velocity")
    ok = bool(isinstance(velocity, torch.Tensor) and velocity.shape == w.shape)
    assert ok, "config['velocity'] must hold the new velocity (a tensor of w's shape) for the next call to use"
    unchanged(before, {"w": w, "dw": dw}, "sgd_momentum")
    return next_w, config


def closed_form(w0, dws, lrs, mus):
    """w and v after each step, by the sums v_t = mu_t v_{t-1} - lr_t g_t, unrolled (float64, CPU)."""
    out, v, w = [], torch.zeros_like(w0, dtype=F64), w0.to(F64)
    for g, lr, mu in zip(dws, lrs, mus):
        v = mu * v - lr * g.to(F64)
        w = w + v
        out.append((w, v))
    return out


def run_and_check(sub, observe, device, w0, dws, config, lrs, mus, change=None, rtol=1e-12, atol=1e-14):
    """Steps through dws passing back the returned config; `change(t, config)` may edit it before step t."""
    w, expected = w0.to(device), closed_form(w0, dws, lrs, mus)
    for t, (dw, (w_want, v_want)) in enumerate(zip(dws, expected)):
        if change is not None:
            change(t, config)
        w, config = step(sub, w, dw.to(device), config)
        expect_close(
            config["velocity"].cpu(), v_want.to(w.dtype),
            f"after step {t + 1} the velocity must be momentum * v - learning_rate * dw, with the v that the "
            "previous call stored in config (CS231n's convention: v holds -lr times torch's buffer)",
            rtol=rtol, atol=atol, name="config['velocity']")
        expect_close(w.cpu(), w_want.to(w.dtype), f"after step {t + 1}, next_w must be w + v (the new velocity)",
                     rtol=rtol, atol=atol, name="next_w")
        observe(f"w after step {t + 1}", w, rtol=rtol, atol=atol)
        observe(f"velocity after step {t + 1}", config["velocity"], rtol=rtol, atol=atol)
    return config


def hyper(gen):
    lr = float(torch.empty(()).uniform_(0.01, 0.5, generator=gen))
    mu = float(torch.empty(()).uniform_(0.5, 0.99, generator=gen))
    return lr, mu


@pytest.mark.parametrize("shape", [(1,), (3, 4), (2, 3, 4)], ids=["1", "3x4", "2x3x4"])
def test_trajectory(sub, observe, device, gen, shape):
    """follows v = mu v - lr dw, w = w + v over five steps"""
    lr, mu = hyper(gen)
    w0, dws = randn(gen, *shape), [randn(gen, *shape) for _ in range(5)]
    config = {"learning_rate": lr, "momentum": mu}
    config = run_and_check(sub, observe, device, w0, dws, config, [lr] * 5, [mu] * 5)
    ok = bool(config["learning_rate"] == lr and config["momentum"] == mu)
    assert ok, "the config's learning_rate and momentum must be used and kept as given"


def test_defaults(sub, observe, device, gen):
    """starts from config=None with learning_rate 1e-2, momentum 0.9 and a zero velocity"""
    w0, dws = randn(gen, 4, 3), [randn(gen, 4, 3) for _ in range(3)]
    w, config = step(sub, w0.to(device), dws[0].to(device), None)
    ok = bool(config.get("learning_rate") == 1e-2 and config.get("momentum") == 0.9)
    assert ok, ("with config=None, sgd_momentum must fill in learning_rate = 1e-2 and momentum = 0.9 (got "
                f"{config.get('learning_rate')}, {config.get('momentum')})")
    expect_close(w.cpu(), w0 - 1e-2 * dws[0], "the first step from a zero velocity is w - learning_rate * dw",
                 rtol=1e-12, atol=1e-14, name="next_w")
    observe("w after step 1", w)
    expected = closed_form(w0, dws, [1e-2] * 3, [0.9] * 3)
    for t in (1, 2):
        w, config = step(sub, w, dws[t].to(device), config)
        expect_close(w.cpu(), expected[t][0], f"after step {t + 1} with the defaults, next_w must be w + v",
                     rtol=1e-12, atol=1e-14, name="next_w")
        expect_close(config["velocity"].cpu(), expected[t][1], "the velocity must be kept in config between calls",
                     rtol=1e-12, atol=1e-14, name="config['velocity']")
        observe(f"w after step {t + 1}", w)
        observe(f"velocity after step {t + 1}", config["velocity"])


def test_zero_momentum(sub, observe, device, gen):
    """with momentum 0 it is plain gradient descent: w - lr dw every step"""
    lr = hyper(gen)[0]
    w0, dws = randn(gen, 5), [randn(gen, 5) for _ in range(3)]
    run_and_check(sub, observe, device, w0, dws, {"learning_rate": lr, "momentum": 0.0}, [lr] * 3, [0.0] * 3)


def test_existing_velocity(sub, observe, device, gen):
    """continues from a velocity already in the config"""
    lr, mu = hyper(gen)
    w0, dws, v0 = randn(gen, 3, 2), [randn(gen, 3, 2) for _ in range(3)], randn(gen, 3, 2)
    config = {"learning_rate": lr, "momentum": mu, "velocity": v0.to(device)}
    w, v, w_got = w0, v0, w0.to(device)
    for t, dw in enumerate(dws):
        v = mu * v - lr * dw
        w = w + v
        w_got, config = step(sub, w_got, dw.to(device), config)
        expect_close(w_got.cpu(), w, f"step {t + 1}: the velocity the config already held must be used",
                     rtol=1e-12, atol=1e-14, name="next_w")
        expect_close(config["velocity"].cpu(), v, f"step {t + 1}: velocity", rtol=1e-12, atol=1e-14,
                     name="config['velocity']")
        observe(f"w after step {t + 1}", w_got)
        observe(f"velocity after step {t + 1}", config["velocity"])


def test_learning_rate_change(sub, observe, device, gen):
    """a learning rate changed in the config between steps applies to the new gradient only"""
    lr, mu = hyper(gen)
    w0, dws = randn(gen, 4), [randn(gen, 4) for _ in range(5)]
    lrs = [lr, lr, lr / 10, lr / 10, lr * 2]

    def change(t, config):
        config["learning_rate"] = lrs[t]

    run_and_check(sub, observe, device, w0, dws, {"momentum": mu}, lrs, [mu] * 5, change=change)


def test_matches_torch_sgd(sub, observe, device, gen):
    """follows torch.optim.SGD(momentum) with velocity = -lr * torch's buffer (constant learning rate)"""
    lr, mu = hyper(gen)
    w0, dws = randn(gen, 3, 3), [randn(gen, 3, 3) for _ in range(6)]
    p = torch.nn.Parameter(w0.clone())
    opt = torch.optim.SGD([p], lr=lr, momentum=mu)
    w, config = w0.to(device), {"learning_rate": lr, "momentum": mu}
    for t, dw in enumerate(dws):
        p.grad = dw.clone()
        opt.step()
        w, config = step(sub, w, dw.to(device), config)
        expect_close(w.cpu(), p.detach(), f"after step {t + 1} w must follow torch.optim.SGD(momentum={mu:.3f}) "
                     "exactly while the learning rate is constant", rtol=1e-10, atol=1e-12, name="next_w")
        buf = opt.state[p]["momentum_buffer"]
        expect_close(config["velocity"].cpu(), -lr * buf, "the velocity is -learning_rate times torch's buffer",
                     rtol=1e-10, atol=1e-12, name="config['velocity']")
        observe(f"w after step {t + 1}", w, rtol=1e-10, atol=1e-12)


def test_float32(sub, observe, device, gen):
    """keeps a float32 w (and its velocity) in float32"""
    lr, mu = hyper(gen)
    w0, dws = randn(gen, 6, dtype=torch.float32), [randn(gen, 6, dtype=torch.float32) for _ in range(3)]
    config = run_and_check(sub, observe, device, w0, dws, {"learning_rate": lr, "momentum": mu}, [lr] * 3, [mu] * 3,
                           rtol=1e-5, atol=1e-6)
    ok = bool(config["velocity"].dtype == torch.float32)
    assert ok, f"the velocity must have w's dtype (float32), got {config['velocity'].dtype}"
