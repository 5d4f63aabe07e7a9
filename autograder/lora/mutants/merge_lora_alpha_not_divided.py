# MUTANT: merge_lora
# WHY: scales the update by alpha instead of alpha / r
# %%
# GRADED: merge_lora


def merge_lora(weight, A, B, alpha):
    return weight + alpha * (B @ A)
