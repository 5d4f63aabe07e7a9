"""Hidden tests of `sample_sinusoid_tasks(n_tasks, k_support, k_query, generator)`.

y = A sin(x + phase), A ~ U[0.1, 5], phase ~ U[0, pi], x ~ U[-5, 5], drawn from the generator in the
order amplitudes (T,), phases (T,), support x (T, K, 1), query x (T, Kq, 1).
Oracles: the same draws replayed from a copy of the generator with torch.rand; amplitude and phase
recovered from each task's points by least squares (y = a sin x + b cos x), and their statistics.
"""

import math

import pytest
import torch

from autograder.testing import expect_close, expect_equal

pytestmark = pytest.mark.question("sinusoid_tasks")


def call(sub, T, K, Kq, gen):
    out = sub.sample_sinusoid_tasks(T, K, Kq, gen)
    ok = bool(isinstance(out, tuple) and len(out) == 4)
    assert ok, "sample_sinusoid_tasks returns the tuple (xs, ys, xq, yq)"
    for name, t, shape in zip(("xs", "ys", "xq", "yq"), out, ((T, K, 1), (T, K, 1), (T, Kq, 1), (T, Kq, 1))):
        ok = bool(isinstance(t, torch.Tensor) and t.shape == shape and t.dtype == torch.float32)
        assert ok, f"{name} must be a float32 tensor of shape {shape}"
    return out


def replay(state, T, K, Kq):
    g = torch.Generator()
    g.set_state(state)
    amp = 0.1 + 4.9 * torch.rand(T, generator=g)
    phase = math.pi * torch.rand(T, generator=g)
    xs = -5.0 + 10.0 * torch.rand(T, K, 1, generator=g)
    xq = -5.0 + 10.0 * torch.rand(T, Kq, 1, generator=g)
    a, p = amp.view(-1, 1, 1), phase.view(-1, 1, 1)
    return (xs, a * torch.sin(xs + p), xq, a * torch.sin(xq + p)), torch.rand(3, generator=g)


@pytest.mark.parametrize("T,K,Kq", [(4, 5, 7), (1, 1, 1), (3, 10, 2)])
def test_draws_in_the_documented_order(sub, observe, gen, T, K, Kq):
    """amplitudes, phases, support x, query x, in that order, from the generator given (and nothing else)"""
    state = gen.get_state()
    out = call(sub, T, K, Kq, gen)
    want, after = replay(state, T, K, Kq)
    for name, got, w in zip(("xs", "ys", "xq", "yq"), out, want):
        expect_close(got, w, f"{name}: draw amplitudes (T,) from U[0.1, 5], phases (T,) from U[0, pi], then support x "
                     "and query x from U[-5, 5], all from `generator`, in that order", rtol=1e-5, atol=1e-5)
        observe(name, got)
    expect_equal(torch.rand(3, generator=gen), after, "the generator must be advanced by exactly those draws")


def test_amplitude_and_phase_statistics(sub, observe, gen):
    """amplitudes fill U[0.1, 5] and phases U[0, pi] (recovered from each task's points by least squares)"""
    T = 3000
    xs, ys, xq, yq = call(sub, T, 4, 4, gen)
    x = torch.cat([xs, xq], dim=1).double()[..., 0]  # (T, 8)
    y = torch.cat([ys, yq], dim=1).double()[..., 0]
    basis = torch.stack([torch.sin(x), torch.cos(x)], dim=-1)  # (T, 8, 2): y = a sin x + b cos x
    ab = torch.linalg.lstsq(basis, y.unsqueeze(-1)).solution[..., 0]  # (T, 2)
    amp = ab.norm(dim=-1)
    phase = torch.atan2(ab[:, 1], ab[:, 0])
    ok = bool(amp.min() > 0.099 and amp.max() < 5.001)
    assert ok, f"amplitudes must lie in [0.1, 5]; recovered range [{amp.min():.3f}, {amp.max():.3f}]"
    ok = bool(phase.min() > -1e-3 and phase.max() < math.pi + 1e-3)
    assert ok, f"phases must lie in [0, pi]; recovered range [{phase.min():.3f}, {phase.max():.3f}]"
    ok = bool(abs(amp.mean() - 2.55) < 0.1 and abs(amp.std() - 4.9 / 12 ** 0.5) < 0.1)
    assert ok, (f"amplitudes must be uniform on [0.1, 5] (mean 2.55, std 1.41); got mean {amp.mean():.3f}, "
                f"std {amp.std():.3f}")
    ok = bool(abs(phase.mean() - math.pi / 2) < 0.08 and abs(phase.std() - math.pi / 12 ** 0.5) < 0.08)
    assert ok, (f"phases must be uniform on [0, pi] (mean 1.571, std 0.907); got mean {phase.mean():.3f}, "
                f"std {phase.std():.3f}")
    xall = x.reshape(-1)
    ok = bool(xall.min() >= -5 and xall.max() <= 5 and abs(xall.mean()) < 0.1
              and abs(xall.std() - 10 / 12 ** 0.5) < 0.1)
    assert ok, f"x must be uniform on [-5, 5]; got mean {xall.mean():.3f}, std {xall.std():.3f}"
    observe("amplitudes in range", True)


def test_same_state_same_tasks(sub, observe, gen, seed):
    """the same generator state gives the same tasks; another generator gives other tasks"""
    state = gen.get_state()
    first = call(sub, 5, 3, 4, gen)
    gen.set_state(state)
    again = call(sub, 5, 3, 4, gen)
    for name, a, b in zip(("xs", "ys", "xq", "yq"), first, again):
        expect_equal(b, a, f"{name}: draw everything from `generator` (not torch's global generator)")
    other = call(sub, 5, 3, 4, torch.Generator().manual_seed(seed + 1))
    ok = bool(not torch.equal(other[0], first[0]))
    assert ok, "another generator must give other tasks"
    observe("yq", first[3])
