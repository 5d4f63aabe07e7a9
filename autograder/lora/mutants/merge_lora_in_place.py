# MUTANT: merge_lora
# WHY: adds the update into the caller's weight in place instead of returning a new one.
# %%
# GRADED: merge_lora


def merge_lora(weight, A, B, alpha):
    r = A.shape[0]
    weight += (alpha / r) * (B @ A)
    return weight
