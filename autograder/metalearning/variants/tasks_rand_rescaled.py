# VARIANT: sinusoid_tasks
# WHY: torch.rand rescaled by hand, tasks kept (T, 1, 1) from the start, y through the angle-sum identity.
# %%
# GRADED: sinusoid_tasks
import math

import torch


def sample_sinusoid_tasks(n_tasks, k_support, k_query, generator):
    amp = 0.1 + (5.0 - 0.1) * torch.rand(n_tasks, 1, 1, generator=generator)
    phase = math.pi * torch.rand(n_tasks, 1, 1, generator=generator)
    xs = 10.0 * torch.rand(n_tasks, k_support, 1, generator=generator) - 5.0
    xq = 10.0 * torch.rand(n_tasks, k_query, 1, generator=generator) - 5.0

    def f(x):
        return amp * (torch.sin(x) * torch.cos(phase) + torch.cos(x) * torch.sin(phase))

    return xs, f(xs), xq, f(xq)
