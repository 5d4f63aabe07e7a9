# MUTANT: lora_linear
# WHY: forgets the bias.
# %%
# GRADED: lora_linear


def lora_linear(x, weight, bias, A, B, alpha):
    r = A.shape[0]
    return x @ weight.T + (alpha / r) * ((x @ A.T) @ B.T)
