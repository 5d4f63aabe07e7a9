"""Public tests of the lora assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). The hidden tests check the same things more thoroughly: more shapes,
merge and unmerge, dropout, whether lora_linear forms the merged matrix, nested module names, and
a fine-tuning run of the shipped base model with your LoRA.

Questions build on each other, but each is graded on its own: while a question's tests run, the
names it calls from other questions may be pointed at stand-ins (`substitute`). Call them BY NAME
(LoRALinear inside inject_lora, inject_lora inside finetune). The stand-ins here are deliberately
not LoRA: a wrapper that adds a tag parameter (for inject_lora) and bias-only fine-tuning, "BitFit"
(for finetune).
"""

import pytest
import torch
import torch.nn as nn

from autograder.testing import substitute

F64 = torch.float64


def randn(gen, *shape, dtype=F64):
    return torch.randn(*shape, generator=gen, dtype=F64).to(dtype)


# --------------------------------------------------------------------------- merge_lora


@pytest.mark.question("merge_lora")
def test_merge_lora_values(sub, observe, device, gen):
    """returns W + (alpha / r) B A as a new tensor, inputs unchanged"""
    W, A, B = randn(gen, 5, 4).to(device), randn(gen, 2, 4).to(device), randn(gen, 5, 2).to(device)
    kept = [W.clone(), A.clone(), B.clone()]
    out = sub.merge_lora(W, A, B, 3.0)
    assert out.shape == W.shape, f"the merged weight must have the weight's shape (5, 4), got {tuple(out.shape)}"
    assert all(torch.equal(k, t) for k, t in zip(kept, [W, A, B])), "merge_lora must not modify its inputs"
    observe("merge_lora(W, A, B, alpha=3)", out)


@pytest.mark.question("merge_lora")
def test_merge_lora_zero_B(sub, observe, device, gen):
    """with B = 0 the weight is unchanged"""
    W, A = randn(gen, 3, 6).to(device), randn(gen, 4, 6).to(device)
    out = sub.merge_lora(W, A, torch.zeros(3, 4, dtype=F64, device=device), 8.0)
    same = bool(torch.equal(out, W))
    assert same, "with B = 0 the update (alpha / r) B A is zero: the merged weight must equal the weight"
    observe("B = 0 keeps W", same)


# --------------------------------------------------------------------------- lora_linear


@pytest.mark.question("lora_linear")
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_lora_linear_values(sub, observe, device, gen, bias):
    """matches the reference for x of shape (2, 3, in)"""
    x, W, A, B = randn(gen, 2, 3, 6), randn(gen, 4, 6), randn(gen, 2, 6), randn(gen, 4, 2)
    b = randn(gen, 4) if bias else None
    out = sub.lora_linear(x.to(device), W.to(device), None if b is None else b.to(device), A.to(device),
                          B.to(device), 4.0)
    assert tuple(out.shape) == (2, 3, 4), f"the output must have shape (..., out) = (2, 3, 4), got {tuple(out.shape)}"
    observe("lora_linear(x, W, b, A, B, alpha=4)", out)


@pytest.mark.question("lora_linear")
def test_lora_linear_zero_B(sub, observe, device, gen):
    """with B = 0 it is the base layer x W^T + b"""
    x, W, b, A = randn(gen, 5, 3), randn(gen, 2, 3), randn(gen, 2), randn(gen, 2, 3)
    out = sub.lora_linear(x.to(device), W.to(device), b.to(device), A.to(device), torch.zeros(2, 2, dtype=F64).to(device),
                          2.0)
    same = bool(torch.allclose(out.cpu(), x @ W.T + b, rtol=1e-12, atol=1e-12))
    assert same, "with B = 0 the LoRA branch is zero: the output must be x W^T + bias"
    observe("B = 0 gives the base layer", same)


# --------------------------------------------------------------------------- lora_module


def base_linear(gen, n_in, out, device, bias=True):
    layer = nn.Linear(n_in, out, bias=bias).double()
    with torch.no_grad():
        layer.weight.copy_(randn(gen, out, n_in))
        if bias:
            layer.bias.copy_(randn(gen, out))
    return layer.to(device)


@pytest.mark.question("lora_module")
def test_lora_module_init(sub, observe, device, gen):
    """freezes the base, lora_A (r, in) random, lora_B (out, r) zeros: the output is the base's"""
    base = base_linear(gen, 6, 4, device)
    m = sub.LoRALinear(base, 3, 6.0)
    assert m.base is base, "keep the wrapped layer as self.base"
    assert not any(p.requires_grad for p in base.parameters()), "the base layer must be frozen"
    assert tuple(m.lora_A.shape) == (3, 6) and tuple(m.lora_B.shape) == (4, 3), (
        "lora_A must be (r, in) = (3, 6) and lora_B (out, r) = (4, 3)"
    )
    assert torch.count_nonzero(m.lora_B) == 0 and torch.count_nonzero(m.lora_A) > 0, (
        "initialise lora_A randomly (kaiming-uniform) and lora_B with zeros"
    )
    x = randn(gen, 5, 6).to(device)
    same = bool(torch.equal(m(x), base(x)))
    assert same, "at initialisation (B = 0) the output must equal base(x) exactly"
    observe("output equals base at init", same)
    observe("trainable parameters", sorted(n for n, p in m.named_parameters() if p.requires_grad))


@pytest.mark.question("lora_module")
def test_lora_module_values(sub, observe, device, gen):
    """matches the reference with fixed lora_A and lora_B (eval mode)"""
    m = sub.LoRALinear(base_linear(gen, 5, 3, device), 2, 8.0, dropout=0.1).eval()
    with torch.no_grad():
        m.lora_A.copy_(randn(gen, 2, 5))
        m.lora_B.copy_(randn(gen, 3, 2))
    observe("output", m(randn(gen, 4, 5).to(device)))


# --------------------------------------------------------------------------- inject


class Tagged(nn.Module):
    """A stand-in for LoRALinear (not LoRA): keeps `base` and adds two trainable tags of r numbers each,
    named lora_A and lora_B like the real thing."""

    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        self.base, self.alpha, self.dropout = base, alpha, dropout
        self.lora_A = nn.Parameter(torch.zeros(r, dtype=base.weight.dtype, device=base.weight.device))
        self.lora_B = nn.Parameter(torch.zeros(r, dtype=base.weight.dtype, device=base.weight.device))

    def forward(self, x):
        return self.base(x) + (self.lora_A * self.lora_B).sum()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(3, 4)
        self.blocks = nn.ModuleList([nn.ModuleDict({"query": nn.Linear(4, 4), "value": nn.Linear(4, 4),
                                                    "norm": nn.LayerNorm(4)}) for _ in range(2)])
        self.out = nn.Linear(4, 2)


@pytest.mark.question("inject")
@pytest.mark.parametrize("targets", [["query"], ["value", "out"], ["blocks.1.query"]],
                         ids=["query", "value_out", "qualified"])
def test_inject_targets(sub, observe, device, targets):
    """wraps the targeted nn.Linear layers, freezes the rest and counts the trainable parameters"""
    model = Net().to(device)
    with substitute(sub, LoRALinear=Tagged):
        n = sub.inject_lora(model, targets, 3, 6.0)
    wrapped = sorted(name for name, m in model.named_modules() if isinstance(m, Tagged))
    trainable = sorted(name for name, p in model.named_parameters() if p.requires_grad)
    assert all(name.endswith((".lora_A", ".lora_B")) for name in trainable), (
        f"every parameter but the new LoRA ones must be frozen; trainable: {trainable}"
    )
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert n == count, f"inject_lora returned {n}, but {count} parameter elements are trainable"
    observe("wrapped modules", wrapped)
    observe("trainable parameters", n)


# --------------------------------------------------------------------------- prompt_tuning


@pytest.mark.question("prompt_tuning")
def test_prepend_prompt(sub, observe, device, gen):
    """prompt first, mask ones and labels -100 in front, the sequence unchanged after"""
    embeds, prompt = randn(gen, 2, 4, 3).to(device), randn(gen, 2, 3).to(device)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]]).to(device)
    labels = torch.randint(0, 9, (2, 4), generator=gen).to(device)
    e, m, lab = sub.prepend_prompt(embeds, mask, labels, prompt)
    assert tuple(e.shape) == (2, 6, 3) and tuple(m.shape) == (2, 6) and tuple(lab.shape) == (2, 6), (
        "with n = 2 prompt vectors the results must be (B, n + L, D) = (2, 6, 3) and (B, n + L) = (2, 6)"
    )
    observe("embeds", e)
    observe("attention_mask", m)
    observe("labels", lab)


# --------------------------------------------------------------------------- finetune


def bitfit(model, target_names, r, alpha, dropout=0.0):
    """A stand-in for inject_lora (not LoRA): freeze everything but the targeted layers' biases."""
    for name, p in model.named_parameters():
        p.requires_grad_(name.endswith(".bias") and any(name[: -len(".bias")].endswith(t) for t in target_names))
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class ToyLM(nn.Module):
    def __init__(self, gen, vocab=7, d=5):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.mix = nn.Linear(d, d)
        self.head = nn.Linear(d, vocab)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))

    def forward(self, idx):
        return self.head(torch.tanh(self.mix(self.emb(idx))))


@pytest.mark.question("finetune")
def test_finetune_with_bitfit(sub, observe, device, gen):
    """trains only what inject_lora left trainable with AdamW; returns one float loss per batch"""
    model = ToyLM(gen).to(device)
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not n.endswith("head.bias")}
    batches = []
    for _ in range(4):
        x, y = torch.randint(0, 7, (3, 6), generator=gen), torch.randint(0, 7, (3, 6), generator=gen)
        y[:, :2] = -100  # nothing to predict there
        batches.append((x.to(device), y.to(device)))
    with substitute(sub, inject_lora=bitfit):
        losses = sub.finetune(model, batches, ["head"], 4, 8.0, 0.1)
    assert isinstance(losses, list) and len(losses) == 4 and all(type(v) is float for v in losses), (
        "finetune must return a list of Python floats, one loss per batch"
    )
    changed = [n for n, p in model.named_parameters() if n in frozen and not torch.equal(p, frozen[n])]
    assert not changed, f"only the trainable parameters may change; {changed} changed"
    assert not model.training, "leave the model in eval mode"
    observe("losses", losses, rtol=1e-4, atol=1e-5)
