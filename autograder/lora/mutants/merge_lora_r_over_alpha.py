# MUTANT: merge_lora
# WHY: the scale upside down: r / alpha
# %%
# GRADED: merge_lora


def merge_lora(weight, A, B, alpha):
    r = A.shape[0]
    return weight + (r / alpha) * (B @ A)
