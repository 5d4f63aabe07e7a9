"""The ssm reference solution against independent oracles.

The graded cells of solutions/ssm/ssm.py are checked against torch.linalg.matrix_exp of diagonal
matrices (ZOH), the trapezoidal rule (bilinear), sequential loops in float64/complex128 (kernel,
recurrence, scans), torch.nn.functional.conv1d (causal convolution), published constants (S4D-Lin
A = -1/2 + i pi n, Mamba's A = -(1..N)) and invariants (conjugate pairs give real outputs, the
step loop reproduces the scan, associativity of the combine). The hidden tests inherit these facts
when they compare students to the reference.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.notebook import reference_module
from autograder.testing import substitute

ref = reference_module("ssm")

F64, C128 = torch.float64, torch.complex128
EXACT = dict(rtol=1e-10, atol=1e-12)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def crandn(n, g):
    return torch.complex(torch.randn(n, generator=g, dtype=F64), torch.randn(n, generator=g, dtype=F64))


def stable_A(n, g):
    re = -torch.exp(0.5 * torch.randn(n, generator=g, dtype=F64))
    return torch.complex(re, 3 * torch.randn(n, generator=g, dtype=F64))


def loop_ssm(dA, dB, C, u):
    h, ys = torch.zeros(dA.shape, dtype=C128), []
    for u_k in u:
        h = dA.to(C128) * h + dB.to(C128) * u_k
        ys.append((C.to(C128) * h).sum().real)
    return torch.stack(ys)


def conv1d_causal(u, K):
    L = u.shape[-1]
    return F.conv1d(u.view(1, 1, L), K.flip(0).view(1, 1, L), padding=L - 1)[0, 0, :L]


# --------------------------------------------------------------------------- discretisation


@pytest.mark.parametrize("dt", [0.01, 0.3, 2.0])
def test_zoh_matches_matrix_exp(dt):
    g = gen(1)
    A, B = stable_A(6, g), crandn(6, g)
    dA, dB = ref.discretize_zoh(A, B, dt)
    M = torch.linalg.matrix_exp(dt * torch.diag(A))
    torch.testing.assert_close(dA, M.diagonal(), rtol=1e-8, atol=1e-10)  # matrix_exp is accurate to ~1e-10
    # dB = A^{-1} (exp(dt A) - I) B, the integral of exp(sA) B over [0, dt]
    torch.testing.assert_close(dB, torch.linalg.solve(torch.diag(A), (M - torch.eye(6, dtype=C128)) @ B),
                               rtol=1e-8, atol=1e-10)


def test_zoh_integral_by_quadrature():
    g = gen(2)
    A, B = stable_A(4, g), crandn(4, g)
    dt = 0.2
    s = torch.linspace(0, dt, 20001, dtype=F64)
    integral = torch.trapezoid(torch.exp(s[:, None] * A[None, :]), s, dim=0) * B
    torch.testing.assert_close(ref.discretize_zoh(A, B, dt)[1], integral, rtol=1e-8, atol=1e-10)


def test_zoh_accepts_tensor_dt_and_real_A():
    A, B = -torch.arange(1, 5, dtype=F64), torch.ones(4, dtype=F64)
    dA, dB = ref.discretize_zoh(A, B, torch.tensor(0.1, dtype=F64))
    assert dA.dtype == F64
    torch.testing.assert_close(dA, torch.exp(0.1 * A), **EXACT)
    torch.testing.assert_close(dB, (1 - torch.exp(0.1 * A)) / -A, **EXACT)


def test_bilinear_is_trapezoidal_and_stable():
    g = gen(3)
    A, B = stable_A(8, g), crandn(8, g)
    dt = 0.7
    dA, dB = ref.discretize_bilinear(A, B, dt)
    h0 = crandn(8, g)
    h1 = dA * h0 + dB * 1.3
    torch.testing.assert_close(h1, h0 + dt / 2 * A * (h0 + h1) + dt * B * 1.3, **EXACT)
    assert (dA.abs() < 1).all()


def test_bilinear_third_order_close_to_zoh():
    g = gen(4)
    A, B = stable_A(5, g) / 4, crandn(5, g)
    errs = [(ref.discretize_bilinear(A, B, dt)[0] - torch.exp(dt * A)).abs().max() for dt in (0.01, 0.005)]
    assert 7.0 < errs[0] / errs[1] < 9.0  # O(dt^3): halving dt divides the error by ~8


# --------------------------------------------------------------------------- kernel, recurrence, FFT


@pytest.mark.parametrize("complex_", [False, True])
def test_convolution_view_equals_recurrent_view(complex_):
    g = gen(5)
    if complex_:
        dA, dB = ref.discretize_zoh(stable_A(16, g), crandn(16, g), 0.05)
        C = crandn(16, g)
    else:
        A = -torch.rand(16, generator=g, dtype=F64) - 0.1
        dA, dB = ref.discretize_zoh(A, torch.randn(16, generator=g, dtype=F64), 0.05)
        C = torch.randn(16, generator=g, dtype=F64)
    u = torch.randn(200, generator=g, dtype=F64)
    y_rec = ref.ssm_recurrent(dA, dB, C, u)
    torch.testing.assert_close(y_rec, loop_ssm(dA, dB, C, u), **EXACT)
    K = ref.ssm_kernel(dA, dB, C, 200)
    torch.testing.assert_close(conv1d_causal(u, K), y_rec, rtol=1e-9, atol=1e-11)
    torch.testing.assert_close(ref.fft_conv(u, K), y_rec, rtol=1e-9, atol=1e-11)


def test_kernel_starts_at_dA_power_zero():
    dA, dB = torch.tensor([0.5 + 0.5j], dtype=C128), torch.tensor([2.0 + 0j], dtype=C128)
    C = torch.tensor([1j], dtype=C128)
    K = ref.ssm_kernel(dA, dB, C, 3)
    expected = torch.tensor([(1j * 2).real, (1j * 2 * (0.5 + 0.5j)).real, (1j * 2 * (0.5 + 0.5j) ** 2).real], dtype=F64)
    torch.testing.assert_close(K, expected, **EXACT)


@pytest.mark.parametrize("L", [1, 2, 17, 64])
def test_fft_conv_matches_conv1d(L):
    g = gen(6)
    u, K = torch.randn(L, generator=g, dtype=F64), torch.randn(L, generator=g, dtype=F64)
    torch.testing.assert_close(ref.fft_conv(u, K), conv1d_causal(u, K), rtol=1e-9, atol=1e-11)


def test_unpadded_fft_wraps_around():
    L = 32
    K, u = torch.ones(L, dtype=F64), torch.zeros(L, dtype=F64)
    u[-1] = 1.0
    circular = torch.fft.irfft(torch.fft.rfft(u) * torch.fft.rfft(K), n=L)
    assert circular[0] == pytest.approx(1.0)  # the last input leaks into the first output
    assert ref.fft_conv(u, K)[:-1].abs().max() < 1e-12


# --------------------------------------------------------------------------- scan


def loop_scan(a, b):
    h, out = torch.zeros_like(b[..., 0]), []
    for t in range(a.shape[-1]):
        h = a[..., t] * h + b[..., t]
        out.append(h)
    return torch.stack(out, -1)


@pytest.mark.parametrize("L", [1, 2, 3, 8, 13, 100])
def test_linear_scan_matches_loop(L):
    g = gen(7)
    a = torch.empty(3, L, dtype=F64).uniform_(-1, 1, generator=g)
    b = torch.randn(3, L, generator=g, dtype=F64)
    torch.testing.assert_close(ref.linear_scan(a, b), loop_scan(a, b), **EXACT)
    ac = torch.polar(a.abs(), torch.randn(3, L, generator=g, dtype=F64))
    bc = torch.complex(b, b.flip(-1))
    torch.testing.assert_close(ref.linear_scan(ac, bc), loop_scan(ac, bc), **EXACT)


def test_scan_combine_is_associative_not_commutative():
    def combine(x, y):  # x earlier, y later
        return (y[0] * x[0], y[0] * x[1] + y[1])

    g = gen(8)
    p, q, r = [tuple(torch.randn(2, generator=g, dtype=F64)) for _ in range(3)]
    left, right = combine(combine(p, q), r), combine(p, combine(q, r))
    assert all(torch.allclose(s, t) for s, t in zip(left, right))
    assert not torch.allclose(combine(p, q)[1], combine(q, p)[1])


def test_scan_with_a_one_is_cumsum():
    b = torch.randn(2, 9, generator=gen(9), dtype=F64)
    torch.testing.assert_close(ref.linear_scan(torch.ones_like(b), b), b.cumsum(-1), **EXACT)


# --------------------------------------------------------------------------- S4D


def test_s4d_lin_initialisation_constants():
    torch.manual_seed(0)
    layer = ref.S4DLayer(3, d_state=8)
    A = torch.complex(-torch.exp(layer.A_re_log), layer.A_im)
    torch.testing.assert_close(A[0], torch.complex(torch.full((4,), -0.5), math.pi * torch.arange(4.0)))
    dt = torch.exp(layer.log_dt)
    assert ((dt >= 1e-3) & (dt <= 1e-1)).all()
    assert layer.C.shape == (3, 4, 2)


def test_s4d_kernel_is_conjugate_pair_system():
    torch.manual_seed(1)
    layer = ref.S4DLayer(2, d_state=6).double()
    L = 30
    K = layer.kernel(L).detach()
    A = torch.complex(-torch.exp(layer.A_re_log), layer.A_im).detach()
    C = torch.view_as_complex(layer.C.detach())
    for h in range(2):
        A_full, C_full = torch.cat([A[h], A[h].conj()]), torch.cat([C[h], C[h].conj()])
        dA, dB = ref.discretize_zoh(A_full, torch.ones_like(A_full), torch.exp(layer.log_dt[h].detach()))
        impulse = torch.zeros(L, dtype=F64)
        impulse[0] = 1
        torch.testing.assert_close(K[h], loop_ssm(dA, dB, C_full, impulse), rtol=1e-9, atol=1e-11)


def test_s4d_forward_is_conv_plus_skip_and_causal():
    torch.manual_seed(2)
    layer = ref.S4DLayer(3, d_state=8).double()
    u = torch.randn(2, 3, 40, generator=gen(10), dtype=F64)
    y = layer(u).detach()
    K = layer.kernel(40).detach()
    oracle = F.conv1d(u, K.flip(-1).unsqueeze(1), padding=39, groups=3)[..., :40] + u * layer.D.detach()[:, None]
    torch.testing.assert_close(y, oracle, rtol=1e-9, atol=1e-11)
    u2 = u.clone()
    u2[..., 20:] = 0
    torch.testing.assert_close(layer(u2).detach()[..., :20], y[..., :20], **EXACT)


# --------------------------------------------------------------------------- selective scan


def selective_inputs(b=2, l=9, d=3, n=4, seed=11):
    g = gen(seed)
    return (torch.randn(b, l, d, generator=g, dtype=F64), F.softplus(torch.randn(b, l, d, generator=g, dtype=F64)),
            -torch.exp(torch.randn(d, n, generator=g, dtype=F64)), torch.randn(b, l, n, generator=g, dtype=F64),
            torch.randn(b, l, n, generator=g, dtype=F64), torch.randn(d, generator=g, dtype=F64))


def test_selective_scan_matches_per_channel_loop_and_linear_scan():
    u, delta, A, B, C, D = selective_inputs()
    y = ref.selective_scan(u, delta, A, B, C, D)
    b, l, d = u.shape
    for i in range(b):
        for c in range(d):
            a_t = torch.exp(delta[i, :, c, None] * A[c]).T  # (n, l)
            b_t = (delta[i, :, c, None] * B[i] * u[i, :, c, None]).T  # (n, l)
            h = loop_scan(a_t, b_t)  # (n, l)
            torch.testing.assert_close(y[i, :, c], (h * C[i].T).sum(0) + D[c] * u[i, :, c], **EXACT)
            torch.testing.assert_close(ref.linear_scan(a_t, b_t), h, **EXACT)


def test_selective_step_reproduces_scan():
    u, delta, A, B, C, D = selective_inputs(l=12)
    h, ys = None, []
    for t in range(12):
        y_t, h = ref.selective_step(u[:, t], delta[:, t], A, B[:, t], C[:, t], D, h)
        ys.append(y_t)
    torch.testing.assert_close(torch.stack(ys, 1), ref.selective_scan(u, delta, A, B, C, D), **EXACT)


def test_constant_selective_scan_is_lti_convolution():
    """With delta, B, C independent of t, the selective scan is an S4D-Real convolution."""
    u, _, A, _, _, D = selective_inputs(b=1, l=20, d=1, n=5)
    delta = torch.full_like(u, 0.3)
    Bv, Cv = torch.randn(5, generator=gen(12), dtype=F64), torch.randn(5, generator=gen(13), dtype=F64)
    y = ref.selective_scan(u, delta, A, Bv.expand(1, 20, 5), Cv.expand(1, 20, 5), D)
    dA = torch.exp(0.3 * A[0])
    K = ref.ssm_kernel(dA, 0.3 * Bv, Cv, 20)
    torch.testing.assert_close(y[0, :, 0], conv1d_causal(u[0, :, 0], K) + D[0] * u[0, :, 0], rtol=1e-9, atol=1e-11)


def test_selective_ssm_mamba_constants_and_wiring():
    torch.manual_seed(3)
    layer = ref.SelectiveSSM(32, d_state=4)
    assert layer.dt_rank == 2  # ceil(32 / 16)
    torch.testing.assert_close(-torch.exp(layer.A_log[0]), -torch.arange(1.0, 5.0))  # S4D-Real: A_n = -n
    seen, scan = {}, ref.selective_scan

    def spy(u, delta, A, B, C, D):
        seen.update(delta=delta, A=A)
        return scan(u, delta, A, B, C, D)

    with substitute(ref, selective_scan=spy):
        layer(torch.randn(2, 5, 32))
    assert (seen["delta"] > 0).all() and (seen["A"] < 0).all()
