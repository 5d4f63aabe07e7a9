"""Hidden tests of `discretize_bilinear(A, B, dt) -> (dA, dB)`:
dA = (1 + dt A / 2) / (1 - dt A / 2), dB = dt / (1 - dt A / 2) * B.

Invariants: the stable half-plane maps into the unit disc (|dA| < 1 when Re A < 0), dA agrees
with exp(dt A) to O(dt^3), and one bilinear step is the trapezoidal rule
h1 = h0 + dt/2 (A h0 + A h1) + dt B u (solved for h1).
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("discretize_bilinear")

helpers = load_helpers(__file__)
F64, C128, stable_modes = helpers.F64, helpers.C128, helpers.stable_modes


def call(sub, A, B, dt):
    return helpers.call_discretize(sub.discretize_bilinear, "discretize_bilinear", A, B, dt)


CASES = [(1, False), (7, False), (1, True), (7, True), (32, True)]


@pytest.mark.parametrize("N,complex_", CASES, ids=[f"N{n}-{'complex' if c else 'real'}" for n, c in CASES])
@pytest.mark.parametrize("dt_kind", ["float", "tensor"])
def test_values(sub, observe, device, gen, N, complex_, dt_kind):
    """matches the reference; stable modes land inside the unit disc"""
    A, B = stable_modes(gen, N, complex_)
    dt_value = float(torch.empty(()).uniform_(0.05, 2.0, generator=gen))
    dt = dt_value if dt_kind == "float" else torch.tensor(dt_value, dtype=F64).to(device)
    dA, dB = call(sub, A.to(device), B.to(device), dt)
    ok = bool(dA.dtype == A.dtype)
    assert ok, (
        f"dA must keep A's dtype {A.dtype}, got {dA.dtype}")
    ok = bool((dA.abs() < 1).all())
    assert ok, (
        f"|dA| = {dA.abs().max().item():.3f} >= 1 for a mode with Re A < 0: the bilinear transform maps the stable "
        "half-plane into the unit disc; check the signs, dA = (1 + dt A/2) / (1 - dt A/2)")
    observe("dA", dA)
    observe("dB", dB)


def test_trapezoidal_step(sub, observe, device, gen):
    """one step solves the trapezoidal rule h1 = h0 + dt/2 A (h0 + h1) + dt B u"""
    A, B = stable_modes(gen, 6, True)
    h0 = torch.complex(torch.randn(6, generator=gen, dtype=F64), torch.randn(6, generator=gen, dtype=F64))
    dt, u = 0.3, 0.7
    dA, dB = call(sub, A.to(device), B.to(device), dt)
    h1 = (dA * h0.to(device) + dB * u).cpu()
    residual = h1 - (h0 + dt / 2 * A * (h0 + h1) + dt * B * u)
    ok = bool(residual.abs().max() < 1e-10)
    assert ok, (
        f"h1 = dA h0 + dB u does not satisfy the trapezoidal rule (residual {residual.abs().max():.2e}): "
        "dA = (1 + dt A/2) / (1 - dt A/2) and dB = dt / (1 - dt A/2) * B, with the half step in both")
    observe("h1", h1)


def test_close_to_zoh_for_small_dt(sub, observe, device, gen):
    """agrees with exp(dt A) up to O(dt^3)"""
    A, B = stable_modes(gen, 5, True)
    errors = []
    for dt in (0.01, 0.005):
        dA, _ = call(sub, A.to(device), B.to(device), dt)
        errors.append((dA.cpu() - torch.exp(dt * A)).abs().max().item())
    ratio = errors[0] / errors[1]
    ok = bool(6 < ratio < 10)
    assert ok, (
        f"halving dt divided |dA - exp(dt A)| by {ratio:.2f}; the bilinear transform is exact to O(dt^3), so it "
        "should shrink about 8x (a missing half step makes it first order: 2x)")
    observe("error ratio", ratio, rtol=0.05)


def test_float32_and_gradient(sub, observe, device, gen):
    """works in float32 and is differentiable"""
    A, B = stable_modes(gen, 4, False)
    dA32, dB32 = call(sub, A.float().to(device), B.float().to(device), 0.1)
    ok = bool(dA32.dtype == torch.float32)
    assert ok, (
        f"float32 inputs must give float32 outputs, got {dA32.dtype}")
    observe("dA (float32)", dA32)
    A, B = A.to(device).requires_grad_(True), B.to(device).requires_grad_(True)
    dA, dB = call(sub, A, B, 0.5)
    w = torch.randn(4, generator=gen, dtype=F64).to(device)
    ((dA * w).sum() + (dB * w.flip(0)).sum()).backward()
    observe("A.grad", A.grad)
    observe("B.grad", B.grad)
