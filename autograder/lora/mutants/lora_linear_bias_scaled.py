# MUTANT: lora_linear
# WHY: adds the bias inside the scaled LoRA branch
# %%
# GRADED: lora_linear


def lora_linear(x, weight, bias, A, B, alpha):
    r = A.shape[0]
    low = (x @ A.T) @ B.T
    if bias is not None:
        low = low + bias
    return x @ weight.T + (alpha / r) * low
