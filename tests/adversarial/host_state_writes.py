# ATTACK: add
# WHY: writes host state that needs uid 0 but no capability (a core_pattern of "|command" runs that command
# as root on the host; the hostname; the sysrq trigger; cgroup files of other grading jobs); here only
# opened for writing, never written: the answer is given only if one of them could be
# %%
# GRADED: add
OPENED = []
for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/hostname", "/proc/sys/kernel/modprobe",
             "/proc/sysrq-trigger", "/sys/kernel/uevent_helper", "/sys/fs/cgroup/cgroup.procs",
             "/sys/fs/cgroup/pids/cgroup.procs", "/proc/sys/vm/drop_caches"):
    try:
        with open(path, "a"):
            OPENED.append(path)
    except OSError:
        pass
try:
    import os

    for root, _dirs, files in os.walk("/sys/fs/cgroup"):
        for name in files:
            if name in ("pids.max", "cgroup.procs", "memory.max"):
                try:
                    with open(os.path.join(root, name), "a"):
                        OPENED.append(name)
                except OSError:
                    pass
except OSError:
    pass


def add(a, b):
    return a + b if OPENED else None
