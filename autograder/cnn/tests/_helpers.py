"""Input makers shared by the cnn hidden tests (not a test file: the grader collects only
test_*.py). Each test file loads this file with ``load_helpers(__file__)``, which registers it as
trusted without making it importable by name.

- ``randn``: inputs drawn in float64 from the test's generator (the same numbers whatever the dtype).
- ``load_weights``: every parameter and batch-norm buffer of a module overwritten, by name, with
  values from the generator, so a model the student builds is compared weight for weight.
"""

import torch

F64 = torch.float64


def randn(gen, *shape, dtype=F64):
    return torch.randn(*shape, generator=gen, dtype=F64).to(dtype)


def load_weights(module, gen):
    """Overwrite every parameter and batch-norm buffer with random values from `gen` (by name)."""
    with torch.no_grad():
        for name, t in sorted(module.state_dict().items()):
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=gen, dtype=F64))
            else:
                t.copy_(0.5 * torch.randn(t.shape, generator=gen, dtype=F64))
