# MUTANT: lora_linear
# WHY: scales the low-rank update by alpha instead of alpha divided by the rank.
# %%
# GRADED: lora_linear


def lora_linear(x, weight, bias, A, B, alpha):
    out = x @ weight.T
    if bias is not None:
        out = out + bias
    return out + alpha * ((x @ A.T) @ B.T)
