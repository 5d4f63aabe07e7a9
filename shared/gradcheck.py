"""Check autograd gradients against finite differences, with a teaching message.

Students write custom ``torch.autograd.Function`` backward passes; the only
trustworthy reference for those is the definition of the derivative itself.
We check the vector-Jacobian product ``upstream @ J`` for a *random* upstream
gradient: with an all-ones upstream (what ``out.sum().backward()`` uses), a
layer-norm backward that forgets a term can still look right, because ones lie
in the subspace the normalisation projects away.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["GradcheckResult", "gradcheck", "numerical_vjp"]


@dataclass
class GradcheckResult:
    """Outcome of :func:`gradcheck`; truthy when the gradients match.

    ``analytical`` and ``numerical`` hold, per input (``None`` for inputs that
    were not checked), the float64 gradients that were compared.
    """

    ok: bool
    max_abs_error: float
    worst: str
    message: str
    analytical: list[torch.Tensor | None] = field(default_factory=list, repr=False)
    numerical: list[torch.Tensor | None] = field(default_factory=list, repr=False)

    def __bool__(self) -> bool:
        return self.ok


def _as_float64(x: Any) -> Any:
    """A detached float64 copy keeping ``requires_grad``; non-float values pass through."""
    if isinstance(x, torch.Tensor) and (x.is_floating_point() or x.is_complex()):
        if x.is_complex():
            raise TypeError("gradcheck supports real-valued inputs only")
        return x.detach().to(torch.float64).clone().requires_grad_(x.requires_grad)
    return x


def numerical_vjp(
    fn: Callable[..., torch.Tensor],
    inputs: Sequence[Any],
    upstream: torch.Tensor,
    eps: float = 1e-6,
) -> list[torch.Tensor | None]:
    """Finite-difference gradient of ``sum(fn(*inputs) * upstream)``, from torch's own central-difference
    Jacobian (the one ``torch.autograd.gradcheck`` uses; writing it is an exercise of the basics assignment).

    Returns one float64 tensor per input with ``requires_grad=True`` (``None`` for the others), aligned
    with ``inputs``. The error is ``O(eps**2)``; float64 keeps round-off (``~1e-16 / eps``) small too. The
    caller's tensors are never modified (torch perturbs private copies). ``fn`` must be deterministic.
    """
    numerical = sys.modules["torch.autograd.gradcheck"]._get_numerical_jacobian
    wanted = [isinstance(x, torch.Tensor) and x.requires_grad for x in inputs]
    work = [x.detach().to(torch.float64).clone().requires_grad_(w) if isinstance(x, torch.Tensor)
            and x.is_floating_point() else x for x, w in zip(inputs, wanted)]
    upstream = upstream.detach().to(torch.float64)
    with torch.no_grad():
        jacobians = numerical(lambda *xs: torch.sum(fn(*xs).to(torch.float64) * upstream), tuple(work), eps=eps)
    found = iter(jacobians)
    return [next(found)[0][:, 0].reshape(x.shape).to(x.device) if w else None for x, w in zip(inputs, wanted)]


def _hint(analytical: torch.Tensor, numerical: torch.Tensor, atol: float) -> str:
    """Guess the kind of bug from how the two gradients relate."""
    a, n = analytical.flatten().cpu(), numerical.flatten().cpu()
    if n.abs().max() <= atol:
        return (
            "finite differences say the output does not depend on this input, but autograd "
            "says it does: check the backward formula, or whether fn is piecewise constant "
            "(argmax, round, comparisons)"
        )
    if a.abs().max() == 0:
        return (
            "autograd gives exactly zero: the output is probably cut from the graph "
            "(.detach(), .item(), .data, torch.no_grad, or a tensor rebuilt from Python numbers)"
        )
    scale = float(a @ n / (n @ n))
    residual = float((a - scale * n).norm() / a.norm())
    if residual < 1e-3:
        if abs(scale + 1) < 1e-3:
            return "the sign is flipped"
        return (
            f"autograd is {scale:.4g} times the true gradient: "
            "a scale factor is missing or extra (1/N of a mean? a factor 2?)"
        )
    if analytical.dim() == 2 and analytical.shape[0] == analytical.shape[1]:
        if torch.allclose(analytical.cpu().T, numerical.cpu(), rtol=1e-3, atol=atol):
            return "autograd returns the transpose of the true gradient"
    return "check the backward formula for this input"


def gradcheck(
    fn: Callable[..., torch.Tensor],
    inputs: tuple[torch.Tensor, ...] | list,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> GradcheckResult:
    """Compare autograd's gradients of ``fn(*inputs)`` with finite differences.

    Inputs with ``requires_grad=True`` are checked; they are copied to float64
    first, so ``fn`` must work in float64 (call ``module.double()`` on modules,
    or pass their weights as inputs). The upstream gradient is ``randn`` drawn
    from a generator seeded with ``seed``. An element fails when
    ``|autograd - numerical| > atol + rtol * |numerical|``.
    """
    args = [_as_float64(x) for x in inputs]
    checked = [i for i, x in enumerate(args) if isinstance(x, torch.Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")

    out = fn(*args)
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        raise TypeError(f"gradcheck: fn must return a floating-point tensor, got {type(out).__name__}")
    generator = torch.Generator().manual_seed(seed)
    upstream = torch.randn(out.shape, generator=generator, dtype=torch.float64).to(out.device)

    analytical: list[torch.Tensor | None] = [None] * len(args)
    if out.requires_grad:
        grads = torch.autograd.grad(out, [args[i] for i in checked], upstream.to(out.dtype), allow_unused=True)
    else:
        grads = (None,) * len(checked)
    for i, g in zip(checked, grads, strict=True):
        analytical[i] = torch.zeros_like(args[i]) if g is None else g.detach().to(torch.float64)
    numerical = numerical_vjp(fn, args, upstream, eps)

    max_err, worst, worst_bad_err, report = 0.0, "", -1.0, []
    for i in checked:
        a, n = analytical[i], numerical[i]
        assert a is not None and n is not None
        err = (a - n).abs()
        if err.numel() == 0:
            continue
        bad = err > atol + rtol * n.abs()
        flat = int(torch.argmax(torch.where(bad, err, -1.0) if bad.any() else err))
        index = tuple(int(j) for j in torch.unravel_index(torch.tensor(flat), err.shape))
        where = f"input {i}" + (f" at index {index}" if index else "")
        if not report and float(err.max()) >= max_err:
            worst = where  # while everything passes, point at the largest error
        max_err = max(max_err, float(err.max()))
        if not bad.any():
            continue
        if float(err.flatten()[flat]) > worst_bad_err:
            worst, worst_bad_err = where, float(err.flatten()[flat])
        report.append(
            f"gradient of {where} is wrong (input shape {tuple(a.shape)}): "
            f"autograd gives {float(a.flatten()[flat]):.6g}, "
            f"finite differences give {float(n.flatten()[flat]):.6g}; "
            f"{int(bad.sum())} of {err.numel()} elements exceed "
            f"atol={atol:g} + rtol={rtol:g}*|numerical|. Hint: {_hint(a, n, atol)}"
        )
    if report:
        message = "\n".join(report)
    else:
        message = (
            f"gradients of {len(checked)} input(s) match finite differences "
            f"(max abs error {max_err:.1e}, checked with a random upstream gradient)"
        )
    return GradcheckResult(not report, max_err, worst, message, analytical, numerical)
