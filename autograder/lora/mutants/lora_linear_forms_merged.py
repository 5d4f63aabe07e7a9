# MUTANT: lora_linear
# WHY: forms the merged out x in matrix at every call (correct values, but what LoRA training avoids)
# %%
# GRADED: lora_linear


def lora_linear(x, weight, bias, A, B, alpha):
    r = A.shape[0]
    merged = weight + (alpha / r) * (B @ A)
    out = x @ merged.T
    return out if bias is None else out + bias
