"""Train the LoRA assignment's base model: a tiny character-level GPT on Python's stdlib sources.

Deterministic: the same torch version on the same kind of CPU (torch's CPU capability, e.g. AVX2 or
AVX512, is recorded) gives bit-for-bit the same weights (fixed seeds, a private batch generator, a
fixed number of threads, deterministic algorithms); another kind of CPU gives the same validation
loss to about 1e-3 and weights within a few 1e-3.
Offline: the corpus is the standard library's own source (``shared.data.stdlib_text``).

    python scripts/train_lora_base.py   # writes shared/weights/tinygpt_stdlib.pt (30 s on a recent CPU, 1 thread)
    python scripts/train_lora_base.py --steps 20 --out /tmp/tiny.pt --d-model 32 --n-layers 1   # a quick rerun

The fine-tuning tasks of the assignment use other modules (``HELD_OUT``), never seen here.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.data import stdlib_text  # noqa: E402
from shared.tinygpt import WEIGHTS, CharGPT, TinyGPTConfig, clean_text, state_digest, tokenizer  # noqa: E402

TRAIN_MODULES = (
    "json", "csv", "argparse", "textwrap", "string", "heapq", "bisect", "functools", "dataclasses",
    "fractions", "statistics", "pathlib", "collections", "enum", "shlex", "calendar", "configparser",
    "difflib", "gettext", "glob", "fnmatch", "queue", "sched", "random", "pprint", "reprlib", "tokenize",
    "contextlib", "abc", "copy", "datetime", "decimal", "ipaddress", "numbers", "operator", "os",
)  # fmt: skip
HELD_OUT = ("inspect", "ast", "typing", "email", "http", "logging", "unittest")
"""Modules kept out of the base model's corpus, for fine-tuning experiments."""


def corpus(max_chars: int) -> torch.Tensor:
    text = clean_text(stdlib_text(max_chars=max_chars, modules=TRAIN_MODULES))
    return tokenizer().encode(text)


def train(cfg: TinyGPTConfig, steps: int, batch: int, seq: int, lr: float, max_chars: int, seed: int,
          threads: int, log_every: int = 100) -> tuple[CharGPT, dict]:
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    data = corpus(max_chars)
    n_val = len(data) // 20
    train_data, val_data = data[:-n_val], data[-n_val:]
    model = CharGPT(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95), foreach=False)
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * (0.1 + 0.45 * (1 + math.cos(math.pi * min(s, steps) / steps))))
    gen = torch.Generator().manual_seed(seed)

    def windows(src: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
        starts = torch.randint(0, len(src) - seq - 1, (n,), generator=g)
        return torch.stack([src[s : s + seq + 1] for s in starts.tolist()])  # (n, seq + 1)

    val = windows(val_data, 64, torch.Generator().manual_seed(seed + 1))
    t0 = time.perf_counter()
    model.train()
    for step in range(steps):
        xy = windows(train_data, batch, gen)
        logits = model(xy[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1), xy[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if log_every and ((step + 1) % log_every == 0 or step + 1 == steps):
            print(f"step {step + 1:5d}  loss {loss.item():.3f}  {time.perf_counter() - t0:6.1f} s", flush=True)
    model.eval()
    with torch.no_grad():
        val_loss = F.cross_entropy(model(val[:, :-1]).flatten(0, 1), val[:, 1:].flatten()).item()
    info = dict(steps=steps, batch=batch, seq=seq, lr=lr, max_chars=max_chars, seed=seed, threads=threads,
                cpu=torch.backends.cpu.get_cpu_capability(),
                val_loss=round(val_loss, 4), seconds=round(time.perf_counter() - t0, 1),
                torch=str(torch.__version__), python=sys.version.split()[0])
    return model, info


DEFAULTS = dict(steps=1000, batch=32, seq=64, lr=3e-3, max_chars=600_000, seed=0, threads=1)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name, value in DEFAULTS.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    p.add_argument("--d-model", type=int, default=TinyGPTConfig.d_model)
    p.add_argument("--n-layers", type=int, default=TinyGPTConfig.n_layers)
    p.add_argument("--out", type=Path, default=WEIGHTS)
    args = p.parse_args(argv)
    cfg = TinyGPTConfig(d_model=args.d_model, n_layers=args.n_layers)
    model, info = train(cfg, args.steps, args.batch, args.seq, args.lr, args.max_chars, args.seed, args.threads)
    from shared.tinygpt import save_tinygpt

    info["digest"] = state_digest(model.state_dict())
    save_tinygpt(model, args.out, **info)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1e6:.2f} MB); validation loss {info['val_loss']:.3f} nats/char; "
          f"{info['seconds']:.0f} s; digest {info['digest'][:16]}")


if __name__ == "__main__":
    main()
