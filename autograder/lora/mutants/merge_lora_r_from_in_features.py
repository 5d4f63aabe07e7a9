# MUTANT: merge_lora
# WHY: reads r from the wrong dimension of A (its number of input features)
# %%
# GRADED: merge_lora


def merge_lora(weight, A, B, alpha):
    r = A.shape[-1]
    return weight + (alpha / r) * (B @ A)
