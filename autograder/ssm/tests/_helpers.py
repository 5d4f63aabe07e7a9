"""Input makers and checks shared by the ssm hidden tests (not a test file: the grader collects
only test_*.py). Each test file loads this file with ``load_helpers(__file__)``, which registers it
as trusted without making it importable by name.

- ``stable_modes``: a continuous diagonal system (Re A < 0) with its input vector B.
- ``stable_system``: a discrete diagonal system (|dA| < 1) with dB and C.
- ``call_discretize``: calls a discretisation and checks it returns the pair (dA, dB) of A's shape.
"""

import torch

F64, C128 = torch.float64, torch.complex128


def crandn(gen, *shape):
    return torch.complex(torch.randn(*shape, generator=gen, dtype=F64), torch.randn(*shape, generator=gen, dtype=F64))


def stable_modes(gen, N, complex_):
    """(A, B): A with Re A < 0 (a stable continuous system), complex with frequencies when asked."""
    re = -torch.exp(0.7 * torch.randn(N, generator=gen, dtype=F64))
    if not complex_:
        return re, torch.randn(N, generator=gen, dtype=F64)
    im = 4.0 * torch.randn(N, generator=gen, dtype=F64)
    return torch.complex(re, im), crandn(gen, N)


def stable_system(gen, N, complex_, radius=(0.5, 0.99), signed=False):
    """(dA, dB, C): dA inside the unit disc (a stable discrete system); real dA of either sign when
    ``signed`` (an oscillating mode), dB and C arbitrary."""
    r = torch.empty(N, dtype=F64).uniform_(*radius, generator=gen)
    if complex_:
        theta = torch.empty(N, dtype=F64).uniform_(-3.0, 3.0, generator=gen)
        return torch.polar(r, theta), crandn(gen, N), crandn(gen, N)
    if signed:
        r = torch.where(torch.rand(N, generator=gen) < 0.3, -1.0, 1.0).to(F64) * r
    return r, torch.randn(N, generator=gen, dtype=F64), torch.randn(N, generator=gen, dtype=F64)


def call_discretize(fn, name, A, B, dt):
    """``fn(A, B, dt)``, checked to be the pair (dA, dB) of tensors shaped like A."""
    out = fn(A, B, dt)
    ok = bool(isinstance(out, tuple) and len(out) == 2)
    assert ok, f"{name} must return the pair (dA, dB)"
    dA, dB = out
    for what, t in (("dA", dA), ("dB", dB)):
        ok = bool(isinstance(t, torch.Tensor) and t.shape == A.shape)
        assert ok, (
            f"{what} must be a tensor of A's shape {tuple(A.shape)}; got "
            f"{tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__}")
    return dA, dB
