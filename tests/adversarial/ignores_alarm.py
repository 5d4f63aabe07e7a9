# ATTACK: add
# WHY: disables the grader's alarm signal, then hangs
# %%
# GRADED: add
import signal
import time


def add(a, b):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.setitimer(signal.ITIMER_REAL, 0)
    while True:
        time.sleep(0.01)
