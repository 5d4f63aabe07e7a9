# MUTANT: sinusoid_tasks
# WHY: the phase is drawn from [0, 2 pi] instead of [0, pi]
# %%
# GRADED: sinusoid_tasks
import math

import torch


def sample_sinusoid_tasks(n_tasks, k_support, k_query, generator):
    amp = torch.empty(n_tasks).uniform_(0.1, 5.0, generator=generator).view(-1, 1, 1)
    phase = torch.empty(n_tasks).uniform_(0.0, 2 * math.pi, generator=generator).view(-1, 1, 1)
    xs = torch.empty(n_tasks, k_support, 1).uniform_(-5.0, 5.0, generator=generator)
    xq = torch.empty(n_tasks, k_query, 1).uniform_(-5.0, 5.0, generator=generator)
    return xs, amp * torch.sin(xs + phase), xq, amp * torch.sin(xq + phase)
