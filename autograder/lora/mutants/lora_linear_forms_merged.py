# MUTANT: lora_linear
# WHY: builds the full-size merged weight matrix at every call, which gives the right values but wastes the memory and
#   time LoRA saves.
# %%
# GRADED: lora_linear


def lora_linear(x, weight, bias, A, B, alpha):
    r = A.shape[0]
    merged = weight + (alpha / r) * (B @ A)
    out = x @ merged.T
    return out if bias is None else out + bias
