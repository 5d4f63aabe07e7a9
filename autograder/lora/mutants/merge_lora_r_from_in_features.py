# MUTANT: merge_lora
# WHY: reads the rank from the wrong dimension of the adapter matrices.
# %%
# GRADED: merge_lora


def merge_lora(weight, A, B, alpha):
    r = A.shape[-1]
    return weight + (alpha / r) * (B @ A)
