# ATTACK: add
# WHY: ends the process at import with raise KeyboardInterrupt
# %%
# GRADED: add
import os
import sys

raise KeyboardInterrupt
