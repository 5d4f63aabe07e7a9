"""The lora reference solution against closed forms, invariants and (when installed) peft.

The graded cells of solutions/lora/lora.py are checked against the closed form
W0 + (alpha / r) B A, against the invariants of LoRA (B = 0 gives exactly the base output, merged
equals unmerged, rank of the update at most r, at initialisation grad A = 0 and grad B != 0, only
the LoRA parameters or the prompt receive gradients and the base is unchanged after an optimizer
step) and against Hugging Face peft's LoraConfig/get_peft_model on the same nn.Linear.
"""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.notebook import reference_module
from shared.tinygpt import CharGPT, TinyGPTConfig, finetune_task, load_tinygpt, state_digest

ref = reference_module("lora")

F64 = torch.float64
EXACT = dict(rtol=1e-12, atol=1e-12)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=gen(seed), dtype=F64)


def linear(n_in, out, bias=True, seed=0):
    torch.manual_seed(seed)
    return nn.Linear(n_in, out, bias=bias).double()


# ------------------------------------------------------------------------------------ merge / linear


@pytest.mark.parametrize("r", [1, 3, 6])
def test_merge_is_the_closed_form(r):
    W, A, B = randn(6, 9, seed=1), randn(r, 9, seed=2), randn(6, r, seed=3)
    kept = [W.clone(), A.clone(), B.clone()]
    out = ref.merge_lora(W, A, B, 5.0)
    expected = W + (5.0 / r) * sum(torch.outer(B[:, k], A[k]) for k in range(r))
    torch.testing.assert_close(out, expected, **EXACT)
    assert all(torch.equal(a, b) for a, b in zip(kept, [W, A, B]))
    assert torch.linalg.matrix_rank(out - W) == r


@pytest.mark.parametrize("bias", [True, False])
def test_lora_linear_equals_merged_layer(bias):
    x, W, A, B = randn(2, 5, 7, seed=4), randn(3, 7, seed=5), randn(2, 7, seed=6), randn(3, 2, seed=7)
    b = randn(3, seed=8) if bias else None
    out = ref.lora_linear(x, W, b, A, B, 6.0)
    torch.testing.assert_close(out, F.linear(x, ref.merge_lora(W, A, B, 6.0), b), **EXACT)
    torch.testing.assert_close(ref.lora_linear(x, W, b, A, torch.zeros_like(B), 6.0), F.linear(x, W, b), **EXACT)


# ------------------------------------------------------------------------------------ LoRALinear


def test_module_init_invariants():
    base = linear(64, 10)
    torch.manual_seed(1)
    m = ref.LoRALinear(base, 4, 8.0, dropout=0.5).train()
    x = randn(5, 64, seed=9)
    assert torch.equal(m(x), base(x))  # B = 0 gives exactly the base output, even with dropout on
    assert m.lora_A.abs().max() <= 1 / math.sqrt(64)
    (m(x) * randn(5, 10, seed=10)).sum().backward()
    assert torch.count_nonzero(m.lora_A.grad) == 0 and torch.count_nonzero(m.lora_B.grad) > 0
    assert base.weight.grad is None and base.bias.grad is None


def test_merged_equals_unmerged_and_rank():
    base = linear(8, 6)
    m = ref.LoRALinear(base, 2, 3.0).eval()
    with torch.no_grad():
        m.lora_A.copy_(randn(2, 8, seed=11))
        m.lora_B.copy_(randn(6, 2, seed=12))
    W0 = base.weight.detach().clone()
    x = randn(4, 8, seed=13)
    y = m(x)
    m.merge()
    m.merge()
    torch.testing.assert_close(m(x), y, **EXACT)
    assert torch.linalg.matrix_rank(base.weight - W0) <= 2
    m.unmerge()
    torch.testing.assert_close(base.weight, W0, **EXACT)


def test_only_lora_parameters_train():
    torch.manual_seed(0)
    model = CharGPT(TinyGPTConfig(block_size=16, d_model=16, n_heads=2, n_layers=2))
    before = state_digest(model.state_dict())
    n = ref.inject_lora(model, ["query", "value"], 4, 8.0)
    assert n == 2 * 2 * 4 * (16 + 16)  # 2 layers x (query, value) x r (in + out)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.1)
    x = torch.randint(0, 97, (2, 8))
    for _ in range(2):
        loss = F.cross_entropy(model(x).flatten(0, 1), x.roll(-1, 1).flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    base_state = {k.replace(".base.", "."): v for k, v in model.state_dict().items() if "lora_" not in k}
    assert state_digest(base_state) == before
    assert all(torch.count_nonzero(m.lora_B) > 0 for m in model.modules() if isinstance(m, ref.LoRALinear))
    for m in model.modules():
        if isinstance(m, ref.LoRALinear):
            assert torch.linalg.matrix_rank((m.lora_B @ m.lora_A).detach()) <= 4


def test_inject_matches_only_name_ends():
    torch.manual_seed(0)
    model = CharGPT(TinyGPTConfig(block_size=16, d_model=16, n_heads=2, n_layers=2))
    ref.inject_lora(model, ["blocks.1.attn.value", "head"], 2, 2.0)
    wrapped = sorted(n for n, m in model.named_modules() if isinstance(m, ref.LoRALinear))
    assert wrapped == ["blocks.1.attn.value", "head"]


# ------------------------------------------------------------------------------------ prompt tuning


def test_prompt_tuning_trains_only_the_prompt():
    torch.manual_seed(0)
    model = CharGPT(TinyGPTConfig(block_size=16, d_model=16, n_heads=2, n_layers=1))
    model.requires_grad_(False)
    before = state_digest(model.state_dict())
    prompt = nn.Parameter(0.1 * torch.randn(3, 16))
    x = torch.randint(0, 97, (2, 6))
    e, m, lab = ref.prepend_prompt(model.embed(x), torch.ones_like(x), x, prompt)
    assert e.shape == (2, 9, 16) and m[:, :3].eq(1).all() and lab[:, :3].eq(-100).all()
    # the model sees [prompt; embeds] exactly
    torch.testing.assert_close(model(embeds=e, attention_mask=m),
                               model(embeds=torch.cat([prompt.detach().expand(2, 3, 16), model.embed(x)], 1)))
    opt = torch.optim.SGD([prompt], lr=0.1)
    loss = F.cross_entropy(model(embeds=e, attention_mask=m).flatten(0, 1), lab.flatten(), ignore_index=-100)
    loss.backward()
    assert prompt.grad is not None and torch.count_nonzero(prompt.grad) > 0
    assert all(p.grad is None for p in model.parameters())
    opt.step()
    assert state_digest(model.state_dict()) == before


# ------------------------------------------------------------------------------------ fine-tuning


def test_finetune_improves_the_base_model_and_keeps_it():
    torch.manual_seed(0)
    model, _ = load_tinygpt()
    shipped = state_digest(model.state_dict())
    x, y = finetune_task(15 * 16, 64, seed=3)
    vx, vy = finetune_task(64, 64, seed=4, split="val")
    with torch.no_grad():
        before = F.cross_entropy(model(vx).flatten(0, 1), vy.flatten()).item()
    losses = ref.finetune(model, [(x[i : i + 16], y[i : i + 16]) for i in range(0, len(x), 16)],
                          ["query", "value"], 8, 16.0, 1e-2)
    with torch.no_grad():
        after = F.cross_entropy(model(vx).flatten(0, 1), vy.flatten()).item()
    assert after < before - 0.3 and losses[-1] < losses[0]
    assert state_digest({k.replace(".base.", "."): v for k, v in model.state_dict().items()
                         if "lora_" not in k}) == shipped


# ------------------------------------------------------------------------------------ peft oracle


def test_matches_peft():
    peft = pytest.importorskip("peft", reason="peft is not installed (optional oracle: pip install peft)")

    class One(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(7, 5)

        def forward(self, x):
            return self.lin(x)

    torch.manual_seed(0)
    plain = One()
    ours = ref.LoRALinear(nn.Linear(7, 5), 3, 6.0)
    ours.base.load_state_dict(plain.lin.state_dict())
    config = peft.LoraConfig(r=3, lora_alpha=6.0, target_modules=["lin"], lora_dropout=0.0, init_lora_weights=True)
    theirs = peft.get_peft_model(One(), config)
    theirs.base_model.model.lin.base_layer.load_state_dict(plain.lin.state_dict())
    A, B = torch.randn(3, 7), torch.randn(5, 3)
    with torch.no_grad():
        theirs.base_model.model.lin.lora_A["default"].weight.copy_(A)
        theirs.base_model.model.lin.lora_B["default"].weight.copy_(B)
        ours.lora_A.copy_(A)
        ours.lora_B.copy_(B)
    x = torch.randn(4, 7)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-5, atol=1e-6)
    merged = theirs.merge_and_unload()
    torch.testing.assert_close(ref.merge_lora(plain.lin.weight.detach(), A, B, 6.0), merged.lin.weight.detach(),
                               rtol=1e-5, atol=1e-6)
    # peft's initialisation: kaiming-uniform A within +-1/sqrt(in), B zeros (as ours)
    fresh = peft.get_peft_model(One(), config).base_model.model.lin
    assert torch.count_nonzero(fresh.lora_B["default"].weight) == 0
    assert fresh.lora_A["default"].weight.abs().max() <= 1 / math.sqrt(7)
