# ATTACK: add
# WHY: ends the process at import with sys.exit(0)
# %%
# GRADED: add
import os
import sys

sys.exit(0)
