"""The optimizers reference solution against independent oracles.

The graded cells of solutions/optimizers/optimizers.py are checked against torch.optim (SGD, Adam,
AdamW, Muon), against an SVD-based float64 construction of Newton-Schulz, and against closed forms.
These are the facts the hidden tests inherit when they compare students to the reference.
"""

import math

import pytest
import torch

from autograder.notebook import reference_module

ref = reference_module("optimizers")

NS_COEFFS = (3.4445, -4.7750, 2.0315)
EXACT = dict(rtol=1e-12, atol=1e-14)  # float64, same arithmetic up to operation order

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def make_params(shapes, seed=0, dtype=torch.float64):
    g = gen(seed)
    return [torch.nn.Parameter(torch.randn(*s, generator=g, dtype=dtype)) for s in shapes]


def clone_params(params):
    return [torch.nn.Parameter(p.detach().clone()) for p in params]


def run_pair(ours, theirs, ours_params, theirs_params, steps, grad_scale=1.0, none_at=None, lr_change_at=None):
    """Feed identical gradients to two optimizers; `none_at[i]` lists the steps where param i has no grad."""
    g = gen(123)
    none_at = none_at or {}
    for step in range(steps):
        if step == lr_change_at:
            for opt in (ours, theirs):
                for group in opt.param_groups:
                    group["lr"] *= 0.3
        for i, (p, q) in enumerate(zip(ours_params, theirs_params)):
            grad = grad_scale * torch.randn(p.shape, generator=g, dtype=p.dtype)
            if step in none_at.get(i, ()):
                p.grad, q.grad = None, None
            else:
                p.grad, q.grad = grad.clone(), grad.clone()
        ours.step()
        theirs.step()
        for p, q in zip(ours_params, theirs_params):
            torch.testing.assert_close(p, q, **EXACT, msg=lambda m: f"step {step}: {m}")


# ----------------------------------------------------------------------------------------------- SGD


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize(
    "momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True), (0.5, True)], ids=["plain", "mom", "nest", "nest.5"]
)
def test_sgd_matches_torch_sgd(momentum, nesterov, weight_decay):
    shapes = [(4, 3), (5,), (2, 2, 3)]
    ours_p = make_params(shapes)
    theirs_p = clone_params(ours_p)
    ours = ref.SGD(
        [{"params": ours_p[:2]}, {"params": ours_p[2:], "lr": 0.02}],
        lr=0.1, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov,
    )
    theirs = torch.optim.SGD(
        [{"params": theirs_p[:2]}, {"params": theirs_p[2:], "lr": 0.02}],
        lr=0.1, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov, dampening=0.0, foreach=False,
    )
    # param 1 has no gradient on steps 0 and 3: skipped, and its buffer starts at its first gradient
    run_pair(ours, theirs, ours_p, theirs_p, steps=7, none_at={1: (0, 3)}, lr_change_at=4)


def test_sgd_skips_params_without_grad_and_keeps_grad():
    p, q = make_params([(3, 2), (4,)])
    q_before = q.detach().clone()
    opt = ref.SGD([p, q], lr=0.1, momentum=0.9, weight_decay=0.5)
    grad = torch.randn(3, 2, generator=gen(1), dtype=torch.float64)
    p.grad = grad.clone()
    opt.step()
    assert torch.equal(q, q_before), "a parameter without gradient must not move"
    assert len(opt.state[q]) == 0, "no state for a parameter that never had a gradient"
    assert torch.equal(p.grad, grad), "step() must not modify p.grad in place"


@pytest.mark.parametrize("cls", ["SGD", "Adam", "Muon"])
def test_step_returns_closure_loss(cls):
    (w,) = make_params([(3, 4)])
    x = torch.randn(5, 4, generator=gen(2), dtype=torch.float64)
    calls = []

    def closure():
        calls.append(1)
        w.grad = None
        loss = (x @ w.T).pow(2).sum()
        loss.backward()
        return loss

    opt = getattr(ref, cls)([w], lr=0.01)
    w_before = w.detach().clone()
    loss = opt.step(closure)
    assert len(calls) == 1
    assert isinstance(loss, torch.Tensor) and loss.item() == pytest.approx((x @ w_before.T).pow(2).sum().item())
    assert not torch.equal(w, w_before), "step(closure) must also update the parameters"
    assert opt.step() is None, "step() without closure returns None"


def test_sgd_invalid_arguments():
    (p,) = make_params([(2, 2)])
    with pytest.raises(ValueError):
        ref.SGD([p], lr=0.1, momentum=0.0, nesterov=True)
    with pytest.raises(ValueError):
        ref.SGD([p], lr=-0.1)
    ref.SGD([p], lr=0.1, momentum=0.9, nesterov=True)  # valid


# ---------------------------------------------------------------------------------------------- Adam


@pytest.mark.parametrize("grad_scale", [1.0, 1e-8], ids=["unit", "tiny"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("decoupled", [False, True], ids=["Adam", "AdamW"])
def test_adam_matches_torch(decoupled, weight_decay, grad_scale):
    shapes = [(4, 3), (6,), (3, 2)]
    ours_p = make_params(shapes)
    theirs_p = clone_params(ours_p)
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 3e-2, "betas": (0.8, 0.99)}]  # noqa: E731
    ours = ref.Adam(groups(ours_p), lr=1e-2, weight_decay=weight_decay, decoupled=decoupled)
    torch_cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    theirs = torch_cls(groups(theirs_p), lr=1e-2, weight_decay=weight_decay, foreach=False)
    # param 1 has no gradient on steps 0, 1 and 4: its own step count lags behind the others
    run_pair(ours, theirs, ours_p, theirs_p, steps=8, grad_scale=grad_scale, none_at={1: (0, 1, 4)}, lr_change_at=5)
    assert ours.state[ours_p[0]]["step"] == 8
    assert ours.state[ours_p[1]]["step"] == 5, "the step count is per parameter (bias correction uses it)"


def test_adam_defaults_match_torch():
    ours_p = make_params([(5, 4)])
    theirs_p = clone_params(ours_p)
    run_pair(ref.Adam(ours_p), torch.optim.Adam(theirs_p, foreach=False), ours_p, theirs_p, steps=4, grad_scale=1e-7)


def test_adam_eps_placement_matters_for_tiny_gradients():
    """eps after the bias-corrected sqrt: a first step with |g| = eps moves every entry by lr / 2."""
    (p,) = make_params([(3, 3)])
    p_before = p.detach().clone()
    opt = ref.Adam([p], lr=1e-2, eps=1e-8)
    p.grad = torch.full((3, 3), 1e-8, dtype=torch.float64)
    opt.step()
    # m_hat = g, v_hat = g^2 after bias correction: step = lr * g / (|g| + eps) = lr / 2
    torch.testing.assert_close(p_before - p, torch.full((3, 3), 5e-3, dtype=torch.float64), **EXACT)


# ------------------------------------------------------------------------------------- Newton-Schulz


def scalar_ns(s, steps):
    a, b, c = NS_COEFFS
    for _ in range(steps):
        s = a * s + b * s**3 + c * s**5
    return s


def ns_oracle(G, steps=5, eps=1e-7):
    """Newton-Schulz through the SVD: U p^steps(S / (||G||_F + eps)) V^T, float64."""
    U, S, Vh = torch.linalg.svd(G.double(), full_matrices=False)
    s = scalar_ns(S / (torch.linalg.matrix_norm(G.double()) + eps), steps)
    return U @ torch.diag(s) @ Vh


def random_orthogonal(n, seed):
    q, r = torch.linalg.qr(torch.randn(n, n, generator=gen(seed), dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))


def svals(M):
    return torch.linalg.svdvals(M.double())


@pytest.mark.parametrize("shape", [(8, 20), (20, 8), (12, 12)], ids=["wide", "tall", "square"])
@pytest.mark.parametrize("steps", [0, 1, 3, 5, 10])
def test_ns_is_scalar_quintic_on_singular_values(shape, steps):
    G = torch.randn(*shape, generator=gen(3), dtype=torch.float64)
    out = ref.newton_schulz(G, steps=steps)
    assert out.shape == G.shape and out.dtype == G.dtype
    torch.testing.assert_close(out, ns_oracle(G, steps), rtol=1e-10, atol=1e-11)


def test_ns_scale_invariant():
    G = torch.randn(16, 40, generator=gen(4), dtype=torch.float64)
    base = ref.newton_schulz(G, eps=0.0)
    for c in [1e-3, 0.5, 7.0, 1e4]:
        torch.testing.assert_close(ref.newton_schulz(c * G, eps=0.0), base, rtol=1e-11, atol=1e-12)
        # with the default eps the difference is the eps effect only
        torch.testing.assert_close(ref.newton_schulz(c * G), base, rtol=0, atol=1e-4 / c)


def test_ns_orthogonal_equivariance():
    G = torch.randn(10, 24, generator=gen(5), dtype=torch.float64)
    U, V = random_orthogonal(10, 6), random_orthogonal(24, 7)
    torch.testing.assert_close(ref.newton_schulz(U @ G @ V), U @ ref.newton_schulz(G) @ V, rtol=1e-10, atol=1e-11)


def test_ns_tall_is_transpose_of_wide():
    G = torch.randn(30, 7, generator=gen(8), dtype=torch.float64)
    torch.testing.assert_close(ref.newton_schulz(G), ref.newton_schulz(G.T).T, **EXACT)


def test_ns_batched_equals_loop_and_input_untouched():
    G = torch.randn(3, 9, 5, generator=gen(9), dtype=torch.float64)
    G_before = G.clone()
    out = ref.newton_schulz(G)
    assert torch.equal(G, G_before), "newton_schulz must not modify its input"
    torch.testing.assert_close(out, torch.stack([ref.newton_schulz(g) for g in G]), **EXACT)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
@pytest.mark.parametrize("shape", [(32, 96), (160, 64), (50, 100)])
def test_ns_singular_values_near_one_and_dtype_kept(shape, dtype):
    G = torch.randn(*shape, generator=gen(10), dtype=torch.float64).to(dtype)
    out = ref.newton_schulz(G)
    assert out.dtype == dtype and out.shape == G.shape
    s = svals(out)
    assert s.min() > 0.6 and s.max() < 1.2, f"singular values in [{s.min():.3f}, {s.max():.3f}]"
    if dtype != torch.bfloat16:
        torch.testing.assert_close(out.double(), ns_oracle(G), rtol=0, atol=1e-4 if dtype == torch.float32 else 1e-10)


# ---------------------------------------------------------------------------------------------- Muon


class MuonOracle:
    """Independent float64 Muon: explicit momentum arithmetic, Newton-Schulz through the SVD."""

    def __init__(self, params, lr, momentum, nesterov, ns_steps, weight_decay):
        self.params, self.lr, self.mu, self.nesterov = params, lr, momentum, nesterov
        self.ns_steps, self.wd = ns_steps, weight_decay
        self.bufs = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self):
        for p, buf in zip(self.params, self.bufs):
            if p.grad is None:
                continue
            g = p.grad
            buf.copy_(self.mu * buf + (1 - self.mu) * g)
            update = (1 - self.mu) * g + self.mu * buf if self.nesterov else buf
            rows, cols = p.shape
            scale = math.sqrt(max(1.0, rows / cols))
            p.copy_((1 - self.lr * self.wd) * p - self.lr * scale * ns_oracle(update, self.ns_steps))


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("nesterov", [True, False])
def test_muon_matches_float64_oracle(nesterov, weight_decay):
    shapes = [(32, 12), (12, 32), (16, 16)]
    ours_p = make_params(shapes)
    theirs_p = clone_params(ours_p)
    kw = dict(lr=0.02, momentum=0.9, nesterov=nesterov, ns_steps=5, weight_decay=weight_decay)
    ours = ref.Muon(ours_p, **kw)
    oracle = MuonOracle(theirs_p, **kw)
    g = gen(11)
    for step in range(6):
        for i, (p, q) in enumerate(zip(ours_p, theirs_p)):
            grad = torch.randn(p.shape, generator=g, dtype=torch.float64)
            p.grad, q.grad = (None, None) if (i == 2 and step == 1) else (grad.clone(), grad.clone())
        ours.step()
        oracle.step()
        for p, q in zip(ours_p, theirs_p):
            torch.testing.assert_close(p, q, rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("nesterov", [True, False])
def test_muon_close_to_torch_muon(nesterov):
    """torch.optim.Muon runs Newton-Schulz in bfloat16: agreement to bf16 precision only."""
    if not hasattr(torch.optim, "Muon"):
        pytest.skip("torch.optim.Muon needs torch >= 2.9")
    shapes = [(48, 16), (16, 48)]
    ours_p = make_params(shapes)
    theirs_p = clone_params(ours_p)
    start = [p.detach().clone() for p in ours_p]
    ours = ref.Muon(ours_p, lr=0.02, momentum=0.95, nesterov=nesterov, weight_decay=0.1)
    theirs = torch.optim.Muon(theirs_p, lr=0.02, momentum=0.95, nesterov=nesterov, weight_decay=0.1,
                              adjust_lr_fn="original")
    g = gen(12)
    for _ in range(5):
        for p, q in zip(ours_p, theirs_p):
            grad = torch.randn(p.shape, generator=g, dtype=torch.float64)
            p.grad, q.grad = grad.clone(), grad.clone()
        ours.step()
        theirs.step()
    for p, q, p0 in zip(ours_p, theirs_p, start):
        moved = (p - p0).abs().max()
        assert (p - q).abs().max() < 0.03 * moved


def test_muon_rejects_non_matrix_params():
    w, b, k = make_params([(4, 3), (4,), (2, 3, 3)])
    with pytest.raises(ValueError):
        ref.Muon([w, b])
    with pytest.raises(ValueError):
        ref.Muon([{"params": [w]}, {"params": [k]}])
    ref.Muon([w])  # valid


def test_muon_aspect_ratio_scaling():
    """A first step on a tall (64, 16) matrix is twice the transposed step on the wide (16, 64) one."""
    G = torch.randn(64, 16, generator=gen(13), dtype=torch.float64)
    tall = torch.nn.Parameter(torch.zeros(64, 16, dtype=torch.float64))
    wide = torch.nn.Parameter(torch.zeros(16, 64, dtype=torch.float64))
    tall.grad, wide.grad = G.clone(), G.T.clone()
    ref.Muon([tall, wide], lr=0.1, nesterov=False).step()
    torch.testing.assert_close(tall.detach(), 2.0 * wide.detach().T, **EXACT)
    # the update is lr * NS(g) (times sqrt(4) for the tall one): singular values near 1
    s = svals(wide.detach() / 0.1)
    assert 0.6 < s.min() and s.max() < 1.2


# ---------------------------------------------------------------------------------------- schedule


def test_schedule_closed_form():
    f = ref.cosine_with_warmup
    T, W, peak, low = 1000, 100, 3e-3, 3e-5
    assert f(0, T, W, peak, low) == 0.0
    assert f(50, T, W, peak, low) == pytest.approx(peak / 2, rel=1e-12)
    assert f(W, T, W, peak, low) == pytest.approx(peak, rel=1e-12)
    assert f(550, T, W, peak, low) == pytest.approx((peak + low) / 2, rel=1e-12)
    q = (700 - W) / (T - W)
    assert f(700, T, W, peak, low) == pytest.approx(low + 0.5 * (peak - low) * (1 + math.cos(math.pi * q)), rel=1e-12)
    assert f(T, T, W, peak, low) == pytest.approx(low, rel=1e-12)
    assert f(T + 500, T, W, peak, low) == pytest.approx(low, rel=1e-12)
    assert type(f(10, T, W, peak, low)) is float
    assert type(f(10, 100, 0, 1, 0)) is float


def test_schedule_shape():
    f = ref.cosine_with_warmup
    T, W = 200, 20
    lrs = [f(s, T, W, 1.0, 0.1) for s in range(T + 20)]
    warm = lrs[: W + 1]
    decay = lrs[W:]
    assert all(b > a for a, b in zip(warm, warm[1:])), "linear warmup increases strictly"
    assert all(b <= a for a, b in zip(decay, decay[1:])), "decay is monotone"
    assert all(abs(lrs[s] - s / W) < 1e-15 for s in range(W))
    # no warmup: starts at the peak
    assert f(0, 100, 0, 2.0) == pytest.approx(2.0)
    assert f(100, 100, 0, 2.0) == pytest.approx(0.0, abs=1e-15)
    # degenerate total <= warmup: no division by zero, min_lr after warmup (beyond the warmup end)
    assert f(10, 10, 10, 1.0, 0.1) == pytest.approx(1.0)
    assert f(11, 10, 10, 1.0, 0.1) == pytest.approx(0.1)


# ---------------------------------------------------------------------------------------------- muP


def mup_lrs(model, base_width, lr):
    groups = ref.mup_param_groups(model, base_width, lr)
    seen = {}
    for group in groups:
        assert set(group) >= {"params", "lr"}
        for p in group["params"]:
            assert id(p) not in seen, "a parameter appears in two groups"
            seen[id(p)] = group["lr"]
    names = {id(p): name for name, p in model.named_parameters()}
    assert set(seen) == set(names), "every parameter must be in exactly one group"
    return {names[i]: lr for i, lr in seen.items()}, groups


@pytest.mark.parametrize("n_hidden", [1, 3])
@pytest.mark.parametrize("width, base_width", [(256, 64), (32, 128)])
def test_mup_groups(width, base_width, n_hidden):
    from shared.models import MLP

    torch.manual_seed(0)
    model = MLP(64, width, 10, n_hidden=n_hidden)
    lr = 3e-3
    lrs, groups = mup_lrs(model, base_width, lr)
    mult = width / base_width
    expected = {"input.weight": lr, "input.bias": lr, "output.weight": lr / mult, "output.bias": lr}
    for i in range(n_hidden):
        expected[f"hidden.{i}.weight"] = lr / mult
        expected[f"hidden.{i}.bias"] = lr
    assert lrs.keys() == expected.keys()
    for name, value in expected.items():
        assert lrs[name] == pytest.approx(value, rel=1e-12), name
    torch.optim.Adam(groups, lr=lr)  # usable as Adam parameter groups


def test_mup_base_width_is_standard_and_no_bias():
    from shared.models import MLP

    lrs, _ = mup_lrs(MLP(64, 96, 10, n_hidden=2), 96, 1e-3)
    assert all(v == pytest.approx(1e-3) for v in lrs.values())
    lrs, _ = mup_lrs(MLP(64, 192, 10, n_hidden=2, bias=False), 96, 1e-3)
    assert lrs == pytest.approx({"input.weight": 1e-3, "hidden.0.weight": 5e-4, "hidden.1.weight": 5e-4,
                                 "output.weight": 5e-4})


# ---------------------------------------------------------------------------------------------- CUDA


@requires_cuda
def test_cuda_matches_cpu():
    cpu = make_params([(6, 4), (8, 20)], dtype=torch.float32)
    cuda = [torch.nn.Parameter(p.detach().cuda()) for p in cpu]
    for make in [
        lambda ps: ref.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: ref.Adam(ps, lr=1e-2, weight_decay=0.01, decoupled=True),
    ]:
        opt_cpu, opt_cuda = make(cpu), make(cuda)
        g = gen(14)
        for _ in range(4):
            for p, q in zip(cpu, cuda):
                grad = torch.randn(p.shape, generator=g)
                p.grad, q.grad = grad, grad.cuda()
            opt_cpu.step()
            opt_cuda.step()
        for p, q in zip(cpu, cuda):
            torch.testing.assert_close(q.detach().cpu(), p.detach(), rtol=1e-5, atol=1e-6)
    G = torch.randn(24, 64, generator=gen(15))
    out = ref.newton_schulz(G.cuda())
    assert out.device.type == "cuda" and out.dtype == torch.float32
    torch.testing.assert_close(out.cpu(), ref.newton_schulz(G), rtol=1e-3, atol=1e-4)
