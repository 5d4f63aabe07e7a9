"""Matrix functions through the spectrum: a route to the same answers that shares no code with
the iterations students write (tests use it as a trusted stand-in)."""

from __future__ import annotations

import torch

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz_spectral(G: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """What ``steps`` quintic Newton-Schulz iterations do to G, computed from its Gram matrix's
    eigendecomposition: X = G / (||G||_F + eps) = U S V^T maps to U p(S) V^T, with p the scalar
    quintic a s + b s^3 + c s^5 iterated. Written as X -> U diag(p(s)/s) U^T X so that zero
    singular values need no division. Computed in float64, returned in G's dtype.

    G: (..., m, n).
    """
    a, b, c = NS_COEFFICIENTS
    X = G.to(torch.float64)
    X = X / (torch.linalg.matrix_norm(X, keepdim=True) + eps)
    tall = X.shape[-2] > X.shape[-1]
    if tall:
        X = X.mT
    w, U = torch.linalg.eigh(X @ X.mT)  # (..., m), (..., m, m); w = s^2
    s = w.clamp(min=0).sqrt()
    gain = torch.ones_like(s)  # p(...p(s)) / s, accumulated step by step
    for _ in range(steps):
        step_gain = a + b * s**2 + c * s**4
        gain, s = gain * step_gain, s * step_gain
    out = U @ (gain.unsqueeze(-1) * (U.mT @ X))
    return (out.mT if tall else out).to(G.dtype)
