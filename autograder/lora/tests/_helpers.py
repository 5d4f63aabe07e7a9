"""Trusted stand-ins and toy models shared by the lora hidden tests (not a test file: the grader
collects only test_*.py). Each test file loads this file with `_load_helpers()` (see any test file),
without registering a module, so a submission cannot import it by name.

The stand-ins reach the reference's values by other routes (einsum, addmm, F.linear) and draw
their LoRA initialisation from a private generator, so their results do not depend on the order
in which the student's code consumes the global random stream.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

F64 = torch.float64
IGNORE = -100


# --------------------------------------------------------------------------- LoRA maths


def trusted_merge(weight, A, B, alpha):
    """W0 + (alpha / r) B A via addmm on a copy."""
    return torch.addmm(weight, B, A, alpha=alpha / A.shape[0])


def trusted_lora_linear(x, weight, bias, A, B, alpha):
    """F.linear for the base path, einsum for the low-rank path."""
    low = torch.einsum("...i,ri,or->...o", x, A, B)
    return F.linear(x, weight, bias) + (alpha / A.shape[0]) * low


class TrustedLoRALinear(nn.Module):
    """The documented LoRALinear: base frozen, lora_A (r, in), lora_B (out, r), dropout on the LoRA input.

    lora_A is drawn from kaiming-uniform bounds with a private generator seeded from the shape (and
    lora_B is zero), so the module is the same whatever the global random state.
    """

    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        self.base, self.r, self.alpha, self.dropout_p = base, r, alpha, dropout
        for p in base.parameters():
            p.requires_grad_(False)
        w = base.weight
        gen = torch.Generator().manual_seed(1000 * base.in_features + 7 * base.out_features + r)
        bound = 1.0 / math.sqrt(base.in_features)
        A = (2 * torch.rand(r, base.in_features, generator=gen, dtype=F64) - 1) * bound
        self.lora_A = nn.Parameter(A.to(device=w.device, dtype=w.dtype))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, device=w.device, dtype=w.dtype))
        self.dropout = nn.Dropout(dropout)
        self.merged = False

    def forward(self, x):
        out = F.linear(x, self.base.weight, self.base.bias)
        if self.merged:
            return out
        return out + (self.alpha / self.r) * F.linear(F.linear(self.dropout(x), self.lora_A), self.lora_B)

    @torch.no_grad()
    def merge(self):
        if not self.merged:
            self.base.weight.add_((self.alpha / self.r) * (self.lora_B @ self.lora_A))
            self.merged = True

    @torch.no_grad()
    def unmerge(self):
        if self.merged:
            self.base.weight.sub_((self.alpha / self.r) * (self.lora_B @ self.lora_A))
            self.merged = False


def trusted_inject(model, target_names, r, alpha, dropout=0.0):
    """Freeze the model and wrap every targeted nn.Linear in TrustedLoRALinear (a recursive walk)."""
    for p in model.parameters():
        p.requires_grad_(False)

    def walk(module, prefix):
        for name, child in list(module.named_children()):
            full = f"{prefix}{name}"
            if isinstance(child, nn.Linear) and any(full == t or full.endswith("." + t) for t in target_names):
                setattr(module, name, TrustedLoRALinear(child, r, alpha, dropout))
            else:
                walk(child, full + ".")

    walk(model, "")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --------------------------------------------------------------------------- models and data


class ToyBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.query = nn.Linear(d, d)
        self.value = nn.Linear(d, d, bias=False)
        self.value_head = nn.Linear(d, 2)  # contains "value" but does not end with it
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        h = self.norm(x + self.query(x) * torch.sigmoid(self.value(x)))
        return h + self.mlp(h) + self.value_head(h).sum(-1, keepdim=True)


class ToyNet(nn.Module):
    """Linear layers at several depths: blocks.<i>.query/.value/.value_head/.mlp.0/.mlp.2, and `out` at the top."""

    def __init__(self, d=6, n_blocks=2, n_out=3):
        super().__init__()
        self.embed = nn.Linear(4, d)
        self.blocks = nn.ModuleList([ToyBlock(d) for _ in range(n_blocks)])
        self.out = nn.Linear(d, n_out)

    def forward(self, x):
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.out(h)


def toy_net(gen, d=6, n_blocks=2):
    """A ToyNet whose every parameter is drawn from `gen` (independent of the global random state)."""
    model = ToyNet(d, n_blocks)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[-1]))
    return model


def linear_from(gen, n_in, n_out, bias=True, dtype=torch.float32):
    layer = nn.Linear(n_in, n_out, bias=bias).to(dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(n_out, n_in, generator=gen, dtype=F64) / math.sqrt(n_in))
        if bias:
            layer.bias.copy_(0.5 * torch.randn(n_out, generator=gen, dtype=F64))
    return layer


def small_gpt(gen, d_model=16, n_layers=1, block_size=16):
    """A small shared.tinygpt.CharGPT with weights drawn from `gen`."""
    from shared.tinygpt import CharGPT, TinyGPTConfig

    model = CharGPT(TinyGPTConfig(block_size=block_size, d_model=d_model, n_heads=2, n_layers=n_layers))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".weight") and p.dim() == 1:  # layer norms
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
    return model


def lm_batches(gen, n_batches, batch, seq, vocab, ignore_fraction=0.2):
    """Random (inputs, targets) batches; a fraction of the targets is IGNORE."""
    out = []
    for _ in range(n_batches):
        x = torch.randint(0, vocab, (batch, seq), generator=gen)
        y = torch.randint(0, vocab, (batch, seq), generator=gen)
        y[torch.rand(batch, seq, generator=gen) < ignore_fraction] = IGNORE
        out.append((x, y))
    return out


def snapshot(model):
    """A detached copy of every parameter and buffer, by name."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def bitwise_equal(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a.view(-1).view(torch.uint8) if a.numel() else a,
                                                                      b.view(-1).view(torch.uint8) if b.numel() else b)
