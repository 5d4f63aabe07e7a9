# MUTANT: merge_lora
# WHY: scales the merged update by alpha instead of alpha divided by the rank.
# %%
# GRADED: merge_lora


def merge_lora(weight, A, B, alpha):
    return weight + alpha * (B @ A)
