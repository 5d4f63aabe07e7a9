"""Hidden tests of `LoRALinear(base, r, alpha, dropout=0.0)`.

Documented names: `base` (the wrapped nn.Linear, frozen), `lora_A` (r, in; kaiming-uniform, so
within +-1/sqrt(in)), `lora_B` (out, r; zeros), `merged` (False until merge()). forward:
base(x) + (alpha / r) B A dropout(x), only base(x) while merged. merge()/unmerge() are idempotent.

While these tests run, `merge_lora` and `lora_linear` are pointed at trusted stand-ins, so that a
mistake there costs points only on those questions. Values are compared after loading fixed
tensors into lora_A and lora_B (never relying on the student's random draws).
"""

import math

import pytest
import torch
import torch.nn as nn

from autograder.testing import load_helpers, substitute

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("lora_module")


def standins(sub):
    return substitute(sub, merge_lora=H.trusted_merge, lora_linear=H.trusted_lora_linear)


def build(sub, device, gen, n_in=6, out=5, r=2, alpha=4.0, dropout=0.0, bias=True, dtype=F64):
    base = H.linear_from(gen, n_in, out, bias=bias, dtype=dtype).to(device)
    with standins(sub):
        m = sub.LoRALinear(base, r, alpha, dropout)
    params = dict(m.named_parameters())
    for name in ("lora_A", "lora_B"):
        assert name in params, f"LoRALinear must define the parameter {name}; it has {sorted(params)}"
    assert m.base is base, "LoRALinear must keep the wrapped layer itself as self.base"
    assert tuple(m.lora_A.shape) == (r, n_in), f"lora_A must have shape (r, in) = {(r, n_in)}"
    assert tuple(m.lora_B.shape) == (out, r), f"lora_B must have shape (out, r) = {(out, r)}"
    return m


def load_factors(m, gen, scale=1.0):
    with torch.no_grad():
        m.lora_A.copy_(torch.randn(m.lora_A.shape, generator=gen, dtype=F64))
        m.lora_B.copy_(scale * torch.randn(m.lora_B.shape, generator=gen, dtype=F64))


def call(sub, m, x):
    with standins(sub):
        return m(x)


def test_structure_and_init(sub, observe, device, gen):
    """freezes the base, B = 0, A kaiming-uniform in +-1/sqrt(in), on the base weight's dtype and device"""
    n_in, out, r = 64, 16, 8
    m = build(sub, device, gen, n_in=n_in, out=out, r=r)
    frozen = [n for n, p in m.base.named_parameters() if p.requires_grad]
    assert not frozen, f"the base layer must be frozen (requires_grad=False), but base.{frozen} are trainable"
    assert m.lora_A.requires_grad and m.lora_B.requires_grad, "lora_A and lora_B must be trainable"
    assert m.lora_A.dtype == m.lora_B.dtype == F64 and m.lora_A.device.type == device.type, (
        "create lora_A and lora_B on the base weight's device and dtype (here float64)"
    )
    assert torch.count_nonzero(m.lora_B) == 0, "lora_B must start at zero, so that the update B A is zero"
    bound = 1 / math.sqrt(n_in)
    A = m.lora_A.detach().cpu()
    within = bool(A.abs().max() <= bound * (1 + 1e-6))
    assert within, (
        f"lora_A must be initialised like nn.Linear's weight, kaiming_uniform_(a=sqrt(5)): uniform in "
        f"+-1/sqrt(in) = +-{bound:.4f}; yours reaches {A.abs().max():.4f}"
    )
    spread = A.std().item() / (bound / math.sqrt(3))
    assert 0.8 < spread < 1.2 and torch.unique(A).numel() > r * n_in // 2, (
        f"lora_A must be random and uniform in +-1/sqrt(in): its standard deviation should be about "
        f"{bound / math.sqrt(3):.4f}, yours is {A.std().item():.4f}"
    )
    assert m.merged is False, "a new LoRALinear is not merged: self.merged must start False"
    observe("A within kaiming bounds", within)
    observe("trainable parameters", sorted(n for n, p in m.named_parameters() if p.requires_grad))


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_init_equals_base(sub, observe, device, gen, bias):
    """at initialisation the output is exactly the base layer's, even with dropout in training mode"""
    m = build(sub, device, gen, bias=bias, dropout=0.5).train()
    x = torch.randn(4, 3, 6, generator=gen, dtype=F64).to(device)
    y = call(sub, m, x)
    same = bool(torch.equal(y, m.base(x)))
    assert same, (
        "with lora_B = 0 the LoRA branch adds exactly zero: the output must equal base(x) bit for bit. "
        "If it does not, the base path is changed (dropout must act only on the LoRA branch's input)"
    )
    observe("equals base(x) at init", same)


@pytest.mark.parametrize("shape", [(2, 4, 3), (6, 5, 2), (3, 7, 7)], ids=["r3", "r2", "r7"])
def test_values(sub, observe, device, gen, shape):
    """matches the reference with fixed A and B (alpha = 5), in eval mode"""
    out, n_in, r = shape
    m = build(sub, device, gen, n_in=n_in, out=out, r=r, alpha=5.0, dropout=0.3).eval()
    load_factors(m, gen)
    x = torch.randn(2, 3, n_in, generator=gen, dtype=F64).to(device)
    y = call(sub, m, x)
    assert y.shape == (2, 3, out), f"the output must have shape (..., out) = (2, 3, {out}), got {tuple(y.shape)}"
    want = (x.cpu() @ H.trusted_merge(m.base.weight.detach().cpu(), m.lora_A.detach().cpu(),
                                      m.lora_B.detach().cpu(), 5.0).T + m.base.bias.detach().cpu()).to(device)
    same = bool(torch.allclose(y, want, rtol=1e-10, atol=1e-10))
    assert same, "forward must be base(x) + (alpha / r) B A x (with alpha / r, r = lora_A.shape[0])"
    observe("output", y)


def test_gradients_at_init(sub, observe, device, gen):
    """at initialisation A gets zero gradient and B a non-zero one; the base gets none"""
    m = build(sub, device, gen, n_in=5, out=4, r=3).train()
    x = torch.randn(6, 5, generator=gen, dtype=F64).to(device)
    upstream = torch.randn(6, 4, generator=gen, dtype=F64).to(device)
    (call(sub, m, x) * upstream).sum().backward()
    assert m.base.weight.grad is None, "the base weight is frozen: it must receive no gradient"
    gA, gB = m.lora_A.grad, m.lora_B.grad
    assert gA is not None and gB is not None, "lora_A and lora_B must receive gradients"
    assert torch.count_nonzero(gA) == 0, "with B = 0 the gradient of A (proportional to B) must be zero"
    assert torch.count_nonzero(gB) > 0, "the gradient of B (proportional to A x) must not be zero at init"
    observe("grad A is zero", True)
    with torch.no_grad():  # the decisive value: B's gradient for the model's own A
        want = (4.0 / 3) * upstream.T @ (x @ m.lora_A.T)
    observe("grad B relative error", ((gB - want).norm() / want.norm()).item(), rtol=0.0, atol=1e-10)


def test_merge_unmerge(sub, observe, device, gen):
    """merge() gives the same outputs, is idempotent, and unmerge() restores the weight"""
    m = build(sub, device, gen, n_in=6, out=5, r=2, alpha=3.0).eval()
    load_factors(m, gen)
    x = torch.randn(4, 6, generator=gen, dtype=F64).to(device)
    W0 = m.base.weight.detach().clone()
    y0 = call(sub, m, x)
    with standins(sub):
        m.merge()
    assert m.merged is True, "merge() must set self.merged = True"
    y1 = call(sub, m, x)
    W1 = m.base.weight.detach().clone()
    with standins(sub):
        m.merge()
    assert torch.allclose(m.base.weight, W1, rtol=0, atol=1e-12), (
        "merge() twice must merge once (idempotent): check self.merged before adding the update"
    )
    y2 = call(sub, m, x)
    assert torch.allclose(y1, y0, rtol=1e-10, atol=1e-10) and torch.allclose(y2, y0, rtol=1e-10, atol=1e-10), (
        "merged and unmerged outputs must agree: once merged, forward must use only the base layer"
    )
    observe("merged weight", W1)
    with standins(sub):
        m.unmerge()
        m.unmerge()
    assert m.merged is False, "unmerge() must set self.merged = False"
    restored = bool(torch.allclose(m.base.weight, W0, rtol=0, atol=1e-12))
    assert restored, "unmerge() must take the update out of the base weight again (once, however often called)"
    y3 = call(sub, m, x)
    assert torch.allclose(y3, y0, rtol=1e-10, atol=1e-10), "after unmerge() the output must be as before merge()"
    observe("unmerge restores the weight", restored)
    observe("output after merge and unmerge", y3)


def test_dropout_on_lora_branch(sub, observe, device, gen):
    """dropout acts in training mode on the LoRA branch only, and not at all in eval mode"""
    m = build(sub, device, gen, n_in=32, out=8, r=4, alpha=4.0, dropout=0.5)
    load_factors(m, gen)
    x = torch.randn(16, 32, generator=gen, dtype=F64).to(device)
    base_out = m.base(x)
    m.eval()
    y_eval = call(sub, m, x)
    m.train()
    y_train = call(sub, m, x)
    differs = not torch.allclose(y_train, y_eval)
    assert differs, "with dropout=0.5 in training mode the LoRA branch's input must be dropped out"
    dropout = [c for c in m.modules() if isinstance(c, nn.Dropout)]
    assert not dropout or all(abs(d.p - 0.5) < 1e-12 for d in dropout), "use the dropout probability you are given"
    # the branch alone: (alpha / r) B A dropout(x); each row of dropout(x) is x's row with entries 0 or x/(1-p)
    branch = ((y_train - base_out) / (4.0 / 4)).detach()
    m.eval()
    observe("eval output", y_eval)
    observe("training mode changes the output", differs)
    observe("branch lies in the column space of B", bool(torch.linalg.matrix_rank(branch.cpu()) <= 4))


# (out, in, r) with r < out, so that the LoRA branch's outputs span at most r of the out directions.
LIFECYCLE = [(8, 6, 2), (6, 10, 3), (12, 9, 4)]


# The module is one contract (forward, freezing, dropout, merge and unmerge work together in every use): these
# tests walk one layer through all of it and carry most of the question's points, so that code wrong in any part
# of the contract, on every input, keeps at most a third; the tests above say which part is wrong.
@pytest.mark.question("lora_module", weight=8)
@pytest.mark.parametrize("shape", LIFECYCLE, ids=[f"r{s[2]}" for s in LIFECYCLE])
def test_lifecycle(sub, observe, device, gen, shape):
    """one layer's whole life: frozen base, base output at init, forward, dropout on the branch, merge, unmerge"""
    out, n_in, r = shape
    alpha, p = 3.0, 0.25
    m = build(sub, device, gen, n_in=n_in, out=out, r=r, alpha=alpha, dropout=p).train()
    assert not any(q.requires_grad for q in m.base.parameters()), "the base layer must be frozen"
    assert m.lora_A.requires_grad and m.lora_B.requires_grad, "lora_A and lora_B must be trainable"
    x = torch.randn(24, n_in, generator=gen, dtype=F64).to(device)
    y = call(sub, m, x)
    assert torch.equal(y, m.base(x)), "at initialisation (B = 0) the output must equal base(x), dropout or not"
    (y * torch.randn(y.shape, generator=gen, dtype=F64).to(device)).sum().backward()
    assert m.lora_B.grad is not None and torch.count_nonzero(m.lora_B.grad) > 0, (
        "at initialisation lora_B must get a non-zero gradient (A random, B zeros)")
    load_factors(m, gen)
    m.eval()
    y_eval = call(sub, m, x)
    want = (x.cpu() @ H.trusted_merge(m.base.weight.detach().cpu(), m.lora_A.detach().cpu(),
                                      m.lora_B.detach().cpu(), alpha).T + m.base.bias.detach().cpu()).to(device)
    assert torch.allclose(y_eval, want, rtol=1e-10, atol=1e-10), "forward must be base(x) + (alpha / r) B A x"
    m.train()
    branch = (call(sub, m, x) - m.base(x)).detach().cpu()
    assert not torch.allclose(branch, (want - m.base(x)).detach().cpu()), "in training mode dropout must act"
    assert int(torch.linalg.matrix_rank(branch)) <= r, (
        "in training mode the LoRA branch must be (alpha / r) B A dropout(x): dropout acts on its input only")
    m.eval()
    W0 = m.base.weight.detach().clone()
    with standins(sub):
        m.merge()
        m.merge()
    y_merged = call(sub, m, x)
    assert torch.allclose(y_merged, y_eval, rtol=1e-10, atol=1e-10), (
        "merged (once, however often merge() is called) the output must not change: forward uses only the base")
    with standins(sub):
        m.unmerge()
        m.unmerge()
    assert torch.allclose(m.base.weight, W0, rtol=0, atol=1e-12), "unmerge() must restore the base weight"
    assert torch.allclose(call(sub, m, x), y_eval, rtol=1e-10, atol=1e-10), "after unmerge() the output is as before"
    observe("output", y_eval)
    observe("merged output", y_merged)
