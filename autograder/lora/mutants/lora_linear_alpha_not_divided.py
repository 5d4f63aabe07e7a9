# MUTANT: lora_linear
# WHY: scales the LoRA branch by alpha instead of alpha / r
# %%
# GRADED: lora_linear


def lora_linear(x, weight, bias, A, B, alpha):
    out = x @ weight.T
    if bias is not None:
        out = out + bias
    return out + alpha * ((x @ A.T) @ B.T)
