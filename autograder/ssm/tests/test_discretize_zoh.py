"""Hidden tests of `discretize_zoh(A, B, dt) -> (dA, dB)`: dA = exp(dt A), dB = (exp(dt A) - 1) / A * B.

Oracle: the matrix exponential of the diagonal matrix dt*diag(A) (torch.linalg.matrix_exp),
whose diagonal is dA, and the exact step response of the continuous system (ZOH is exact for
an input held constant over the step). Real and complex A, several N, dt a float or a 0-d tensor.
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("discretize_zoh")

helpers = load_helpers(__file__)
F64, C128, stable_modes = helpers.F64, helpers.C128, helpers.stable_modes


def call(sub, A, B, dt):
    return helpers.call_discretize(sub.discretize_zoh, "discretize_zoh", A, B, dt)


CASES = [(1, False), (5, False), (16, False), (1, True), (5, True), (16, True)]


@pytest.mark.parametrize("N,complex_", CASES, ids=[f"N{n}-{'complex' if c else 'real'}" for n, c in CASES])
@pytest.mark.parametrize("dt_kind", ["float", "tensor"])
def test_matches_matrix_exponential(sub, observe, device, gen, N, complex_, dt_kind):
    """dA is the diagonal of matrix_exp(dt diag(A)); dB integrates exp(sA) B over one step"""
    A, B = stable_modes(gen, N, complex_)
    dt_value = float(torch.empty(()).uniform_(0.01, 0.5, generator=gen))
    dt = dt_value if dt_kind == "float" else torch.tensor(dt_value, dtype=F64).to(device)
    dA, dB = call(sub, A.to(device), B.to(device), dt)
    ok = bool(dA.dtype == A.dtype)
    assert ok, (
        f"dA must keep A's dtype {A.dtype}, got {dA.dtype}")
    expm = torch.linalg.matrix_exp(torch.diag(dt_value * A).to(C128)).diagonal()
    ok = bool(torch.allclose(dA.cpu().to(C128), expm, rtol=1e-8, atol=1e-10))
    assert ok, (
        "dA must equal exp(dt * A): the matrix exponential of the diagonal matrix dt*diag(A) has exp(dt*A_n) on its "
        "diagonal (Euler's 1 + dt*A is only its first-order approximation)")
    observe("dA", dA)
    observe("dB", dB)


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_step_response_is_exact(sub, observe, device, gen, complex_):
    """ZOH reproduces the continuous step response exactly at every sample"""
    A, B = stable_modes(gen, 6, complex_)
    dt = 0.1
    dA, dB = call(sub, A.to(device), B.to(device), dt)
    h = torch.zeros_like(dA)
    for k in range(1, 21):
        h = dA * h + dB  # constant input u = 1
        exact = ((torch.exp(k * dt * A) - 1) / A * B).to(device)
        ok = bool(torch.allclose(h, exact, rtol=1e-8, atol=1e-10))
        assert ok, (
            f"after {k} steps of h = dA h + dB with u = 1, h differs from the exact solution (exp(tA) - 1)/A * B at "
            f"t = {k * dt:.1f}: dB must be (exp(dt A) - 1) / A * B, the integral of exp(sA) B over one step")
    observe("h after 20 steps", h)


def test_float32_and_small_dt(sub, observe, device, gen):
    """works in float32 and for a tiny step (dB close to dt * B)"""
    A, B = stable_modes(gen, 8, False)
    dA, dB = call(sub, A.float().to(device), B.float().to(device), 1e-3)
    ok = bool(dA.dtype == torch.float32)
    assert ok, (
        f"float32 inputs must give float32 outputs, got {dA.dtype}")
    observe("dA (float32)", dA)
    observe("dB (float32)", dB, rtol=1e-3, atol=1e-6)


def test_gradient(sub, observe, device, gen):
    """is differentiable with respect to A and B (random upstream gradients)"""
    A, B = stable_modes(gen, 5, True)
    A, B = A.to(device).requires_grad_(True), B.to(device).requires_grad_(True)
    w1 = torch.randn(5, generator=gen, dtype=F64).to(device)
    w2 = torch.randn(5, generator=gen, dtype=F64).to(device)
    dA, dB = call(sub, A, B, 0.2)
    ok = bool(dA.requires_grad and dB.requires_grad)
    assert ok, (
        "dA and dB must stay on the autograd graph")
    ((dA.real * w1).sum() + (dB.imag * w2).sum()).backward()
    observe("A.grad", A.grad)
    observe("B.grad", B.grad)


# One contract: this test runs the checks above on one input each (real and complex A, dt a float and a tensor, the
# exact step response, gradients) and carries two thirds of the question's points, so that a discretisation wrong
# on every input of one kind (real or complex modes) keeps at most a third; the tests above say which kind.
@pytest.mark.question("discretize_zoh", weight=36)
def test_whole_contract(sub, observe, device, gen):
    """real and complex modes, dt as a float and as a tensor, the exact step response, gradients"""
    test_matches_matrix_exponential(sub, observe, device, gen, 5, False, "float")
    test_matches_matrix_exponential(sub, observe, device, gen, 5, True, "tensor")
    test_step_response_is_exact(sub, observe, device, gen, False)
    test_step_response_is_exact(sub, observe, device, gen, True)
    test_gradient(sub, observe, device, gen)
