# VARIANT: lora_module
# WHY: F.linear in forward, init by hand (uniform in +-1/sqrt(in)), merge through merge_lora and
# unmerge by restoring a saved copy of the original weight (exact, not a subtraction)
# %%
# GRADED: lora_module
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        base.requires_grad_(False)
        self.base = base
        self.r = r
        self.alpha = alpha
        bound = 1.0 / math.sqrt(base.in_features)
        self.lora_A = nn.Parameter(base.weight.new_empty(r, base.in_features).uniform_(-bound, bound))
        self.lora_B = nn.Parameter(base.weight.new_zeros(base.out_features, r))
        self.lora_dropout = nn.Dropout(p=dropout)
        self.merged = False
        self._saved = None

    def forward(self, x):
        y = F.linear(x, self.base.weight, self.base.bias)
        if not self.merged:
            h = F.linear(self.lora_dropout(x), self.lora_A)
            y = y + F.linear(h, self.lora_B) * (self.alpha / self.r)
        return y

    def merge(self):
        if self.merged:
            return
        with torch.no_grad():
            self._saved = self.base.weight.detach().clone()
            self.base.weight.copy_(merge_lora(self._saved, self.lora_A, self.lora_B, self.alpha))  # noqa: F821
        self.merged = True

    def unmerge(self):
        if not self.merged:
            return
        with torch.no_grad():
            self.base.weight.copy_(self._saved)
        self._saved = None
        self.merged = False
