"""Keeping the user's training undisturbed while a pass runs, and closing runs left open at exit."""
from __future__ import annotations

import atexit
import random
import sys
import weakref
from typing import Callable, Dict, List, Optional, Protocol, Sequence, Tuple

import numpy as np
import torch
from torch.nn.modules.batchnorm import _NormBase
from torch.nn.parameter import is_lazy

from .errors import VaeLensInputError


class Closable(Protocol):
    failure: Optional[str]

    def close(self, status: str = ..., message: Optional[str] = ...) -> None: ...


class forked_rngs:
    """The global random generators of torch (CPU, and the given CUDA devices), numpy and Python's
    `random` as they were before, whatever the user's code inside draws from them."""

    def __init__(self, cuda_devices: Sequence[int] = ()) -> None:
        self.cuda_devices = list(cuda_devices)

    def __enter__(self) -> None:
        self.torch_rng = torch.random.fork_rng(devices=self.cuda_devices)
        self.torch_rng.__enter__()
        self.numpy_state = np.random.get_state()
        self.python_state = random.getstate()

    def __exit__(self, *exc: object) -> None:
        random.setstate(self.python_state)
        np.random.set_state(self.numpy_state)
        self.torch_rng.__exit__(*exc)


class quiet_evaluation:
    """no_grad (no autograd), eval mode (restored per module), autocast off, and the global RNGs (torch, numpy,
    random) forked around the user's code.

    Autocast off: a pass called from inside the user's ``torch.autocast`` (their training step) would otherwise
    run the networks' matrix products in bfloat16 or float16, and its record would depend on where it was
    called from, not on the model.

    Eval mode for every module the user's code runs, not only those given or found: a network reached through
    a plain object (a trainer class holding the decoder) would otherwise run its dropout and update its batch
    norm's running statistics from the pass's points. A module met in training mode is put in eval mode as it is
    called and listed in ``unlisted``, its mode restored after. The running statistics of every normalisation
    layer are written back too: torch's InstanceNorm rewrites its own in eval mode (as the mean of copies, which
    rounds), so a pass would move them a little each time.

    Not inference mode, even when called in it (a validation hook, which Lightning runs in inference mode): the
    tensors a module makes while a pass runs it (a lazy layer's weights and buffers, a cached table) would be
    inference tensors, which training can neither save for backward nor update in place.

    An error the user's code raises inside gets ``note()`` added to it (Python 3.11+), so a shape
    mismatch deep in their model says what the pass fed it; the error itself passes on unchanged.
    """

    def __init__(self, modules: Sequence[torch.nn.Module], device: torch.device,
                 note: Optional[Callable[[], str]] = None) -> None:
        self.modules = modules
        self.device = device
        self.note = note
        #: Modules the user's code ran in training mode that were neither given nor found, in the order met.
        self.unlisted: List[torch.nn.Module] = []

    def _keep_statistics(self, module: torch.nn.Module) -> None:
        # Not a lazy norm's buffers before its first batch: they hold no values to keep, and eval mode leaves the
        # ones it is given as made.
        self.statistics += [(b, b.clone()) for m in module.modules() if isinstance(m, _NormBase)
                            for b in m.buffers(recurse=False) if not is_lazy(b)]

    def _eval_unlisted(self, module: torch.nn.Module, inputs: object) -> None:
        if getattr(module, "training", False):
            self.modes += [(m, getattr(m, "training", None)) for m in module.modules()]
            self._keep_statistics(module)
            module.eval()
            self.unlisted.append(module)

    def __enter__(self) -> "quiet_evaluation":
        # A frozen TorchScript module (torch.jit.freeze) has no training flag: eval() gives it one, taken back after.
        self.modes: List[Tuple[torch.nn.Module, Optional[bool]]] = [
            (m, getattr(m, "training", None)) for root in self.modules for m in root.modules()]
        self.statistics: List[Tuple[torch.Tensor, torch.Tensor]] = []
        for root in self.modules:
            self._keep_statistics(root)
            root.eval()
        self.hook = torch.nn.modules.module.register_module_forward_pre_hook(self._eval_unlisted)
        self.rng = forked_rngs([self.device.index or 0] if self.device.type == "cuda" else [])
        self.rng.__enter__()
        # Out of the user's inference mode too (a validation hook's): see the class's docstring.
        self.inference = torch.inference_mode(False)
        self.inference.__enter__()
        self.grad = torch.no_grad()
        self.grad.__enter__()
        # Only where it is on: torch.autocast("cuda", enabled=False) warns on a machine without CUDA.
        kinds = dict.fromkeys(("cpu", "cuda", self.device.type))
        self.autocast = [torch.autocast(device_type=kind, enabled=False) for kind in kinds if _autocast_on(kind)]
        for a in self.autocast:
            a.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for a in reversed(self.autocast):
            a.__exit__(*exc)
        self.grad.__exit__(*exc)
        self.inference.__exit__(*exc)
        self.rng.__exit__(*exc)
        self.hook.remove()
        with torch.no_grad():
            for held, kept in reversed(self.statistics):
                # Only where changed: writing bumps the buffer's version, which a backward still to come may check.
                if not torch.equal(held, kept):
                    held.copy_(kept)
        # Backwards: a module met twice (called alone, then inside a module met later) was first listed as it was.
        for m, was_training in reversed(self.modes):
            if was_training is None:
                m.__dict__.pop("training", None)
            else:
                m.training = was_training
        error = exc[1]
        if (self.note is not None and isinstance(error, Exception) and not isinstance(error, VaeLensInputError)
                and hasattr(error, "add_note")):
            try:
                error.add_note(self.note())
            except Exception:
                pass  # the note is help, never a second error in place of the user's


def _autocast_on(kind: str) -> bool:
    """Whether autocast is on for device type ``kind`` (torch 2.4 takes the type; earlier ones had a function
    for the CPU and one for CUDA)."""
    try:
        return bool(torch.is_autocast_enabled(kind))  # type: ignore[call-arg]
    except TypeError:
        if kind == "cpu":
            return bool(torch.is_autocast_cpu_enabled())
        return kind == "cuda" and bool(torch.is_autocast_enabled())
    except RuntimeError:  # a device type autocast does not know
        return False


class ExitHook:
    """A run left open when the interpreter exits is closed for the user: `failed` after an uncaught
    exception or a diagnose() that raised, `stopped` after Ctrl-C or when close() was never called.

    The open runs are held weakly: an unclosed Diagnostics that the user's code drops (a sweep's
    trial, a notebook cell run again) is collected with the model its encode and decode hold,
    instead of pinning both until the interpreter exits."""

    open_runs: "weakref.WeakSet[Closable]" = weakref.WeakSet()
    #: For a run whose last diagnose() raised, by its folder: writing its failed summary, should its Diagnostics be
    #: collected unclosed before the exit (a torch.multiprocessing.spawn worker's local, freed when the worker
    #: function raises). Holds the summary and the folder's writer, not the model.
    failed_runs: Dict[str, Callable[[], None]] = {}
    installed = False
    last_exception: Optional[BaseException] = None

    @classmethod
    def register(cls, d: "Closable") -> None:
        cls.open_runs.add(d)
        if not cls.installed:
            cls.installed = True
            previous = sys.excepthook

            def hook(kind: type, exc: BaseException, tb: object) -> None:
                cls.last_exception = exc
                previous(kind, exc, tb)  # type: ignore[arg-type]

            sys.excepthook = hook
            atexit.register(cls.close_all)

    @classmethod
    def unregister(cls, d: "Closable") -> None:
        cls.open_runs.discard(d)

    @classmethod
    def close_all(cls) -> None:
        exc = cls.last_exception
        for d in list(cls.open_runs):
            if isinstance(exc, KeyboardInterrupt):
                d.close("stopped", "interrupted (SIGINT)")
            elif exc is not None:
                d.close("failed", f"{type(exc).__name__}: {exc}")
            elif d.failure is not None:
                d.close("failed", f"{d.failure} (then the script ended without calling close())")
            else:
                d.close("stopped", "the script ended without calling close()")
        for write in list(cls.failed_runs.values()):
            write()
        cls.failed_runs.clear()
