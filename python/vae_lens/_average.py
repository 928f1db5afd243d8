"""The mean of the model's weights over the optimizer steps of one pass interval.

A pass evaluates these averaged weights beside the current ones on the same points and noise: when
the average is better, the step's noise holds the model down and a smaller step would gain the
difference (the verdict's `noise-limited`). The mean is kept on each parameter's own device, in its
own dtype, or in float32 for a float16 or bfloat16 parameter: there a running mean's increments
(1/count of a weight's change) round to nothing after a few hundred steps, and lerp has no float16
kernel on the CPU. It is rounded back to the parameter's dtype when swapped in.

The running mean covers at most BLOCK steps; each full block is then folded into the mean of the blocks
before it. A plain running mean over thousands of steps, in float32 too, stops following the weights: a
step's share of it, its distance from the mean / count, falls below half an ulp of the mean and rounds away.

The parameters themselves are only ever swapped in for the pass that evaluates the average, and
restored bit for bit.

The swap writes the average into each parameter's own memory through ``p.data`` and writes the
parameter's values back afterwards: the parameter keeps its storage, its address and any storage it
shares (tied weights, cuDNN's flat RNN weights, FSDP's flat parameters, the static inputs of a CUDA
graph or of torch.compile), and a write through ``p.data`` does not bump the parameter's autograd
version counter. A forward pass of the user's whose backward is still to come therefore finds its
saved tensors as they were, version and values, so a pass between ``loss = ...`` and
``loss.backward()`` does not break that backward or change its gradients.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence

import torch

#: Parameter dtypes whose running mean is kept in float32.
LOW_PRECISION = (torch.float16, torch.bfloat16)
#: Steps in one running mean before it is folded into the mean of the earlier ones.
BLOCK = 256


class WeightAverage:
    def __init__(self, params: Sequence[torch.nn.Parameter]) -> None:
        self.params: List[torch.nn.Parameter] = list(params)
        #: The running mean of the current block's steps, and the mean of the full blocks before it.
        self.block: Optional[List[torch.Tensor]] = None
        self.folded: Optional[List[torch.Tensor]] = None
        self.in_block = 0
        #: Steps added since the last reset.
        self.count = 0

    @property
    def mean(self) -> Optional[List[torch.Tensor]]:
        """The mean of every step added since the last reset."""
        if self.block is None or self.folded is None:
            return self.block
        return [f.lerp(b, self.in_block / self.count) for f, b in zip(self.folded, self.block)]

    # Outside inference mode even when called in it: the mean must stay a normal tensor, which a later step
    # outside can update in place.
    @torch.inference_mode(False)
    @torch.no_grad()
    def add(self) -> None:
        """Add the parameters as they are now (call after each optimizer step)."""
        self.count += 1
        if self.block is None:
            self.block = [p.detach().to(_mean_dtype(p.dtype)) if p.dtype in LOW_PRECISION else p.detach().clone() for p in self.params]
            self.in_block = 1
            return
        for i, (b, p) in enumerate(zip(self.block, self.params)):
            if b.device != p.device or b.dtype != _mean_dtype(p.dtype):
                # The model was moved or cast since the mean began: the mean follows it.
                self.block[i] = b = b.to(device=p.device, dtype=_mean_dtype(p.dtype))
                if self.folded is not None:
                    self.folded[i] = self.folded[i].to(device=p.device, dtype=b.dtype)
        if self.in_block == BLOCK:
            full = self.count - 1
            if self.folded is None:
                self.folded = [b.clone() for b in self.block]
            else:
                for f, b in zip(self.folded, self.block):
                    f.lerp_(b, BLOCK / full)
            for b, p in zip(self.block, self.params):
                b.copy_(p.detach())
            self.in_block = 1
            return
        self.in_block += 1
        for b, p in zip(self.block, self.params):
            # In place: no temporary per parameter and step (but the float32 copy of a low-precision one).
            b.lerp_(p.detach().to(b.dtype), 1.0 / self.in_block)

    def reset(self) -> None:
        self.block, self.folded, self.in_block, self.count = None, None, 0, 0

    @contextmanager
    def swapped_in(self) -> Iterator[None]:
        """Inside the block the parameters hold the average; afterwards their own values again, bit for
        bit, in the same memory.

        Not ``p.copy_(mean)``: an in-place write to the parameter bumps its version counter, and
        autograd then refuses a backward through any graph that saved the parameter before the swap;
        ``p.data`` is the same memory under a version counter of its own. Not ``p.data = mean``
        either: that gives the parameter other memory, which whatever holds its address (tied
        weights, flat weights, captured graphs) would not see.
        """
        assert self.mean is not None, "nothing averaged yet"
        with torch.no_grad():
            own = [p.data.clone() for p in self.params]
        try:
            with torch.no_grad():
                for p, m in zip(self.params, self.mean):
                    p.data.copy_(m)
            yield
        finally:
            with torch.no_grad():
                for p, t in zip(self.params, own):
                    p.data.copy_(t)


def _mean_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if dtype in LOW_PRECISION else dtype


def parameters_of(modules: Sequence[torch.nn.Module]) -> List[torch.nn.Parameter]:
    """The trainable parameters of the modules, each once."""
    seen, out = set(), []
    for module in modules:
        for p in module.parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                out.append(p)
    return out
