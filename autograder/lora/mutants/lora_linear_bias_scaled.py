# MUTANT: lora_linear
# WHY: applies the scaling to the bias as well as to the low-rank update.
# %%
# GRADED: lora_linear


def lora_linear(x, weight, bias, A, B, alpha):
    r = A.shape[0]
    low = (x @ A.T) @ B.T
    if bias is not None:
        low = low + bias
    return x @ weight.T + (alpha / r) * low
