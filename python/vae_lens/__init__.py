"""VAE Lens for PyTorch: is your Gaussian VAE's ELBO at the sum of entropies, and if not, why not?

    diag = vae_lens.Diagnostics(model.encode, model.decode, train_x, runs_dir="runs")
    ...  after each epoch:  diag.diagnose(epoch, step)
    diag.close("completed")

numpy is needed always; torch when you hand over torch modules (the Diagnostics class, the
distributed all-reduce and ``vae_lens.torch.load_checkpoint``). ``vae_lens.finish_record`` turns the
sums of a pass into a record with numpy alone. ``vae_lens.theorem_status(likelihood, variance_kind, beta)``
says whether the entropy result applies to a model and objective, as each record's ``theoremApplies``.
"""
from ._record import COLLAPSE_KL_NATS, PassSums, elbo_only_record, finish_record
from ._runfolder import RUN_DIR_ENV, SPEC_ENV
from .errors import VaeLensInputError

__version__ = "0.1.0"

__all__ = [
    "COLLAPSE_KL_NATS", "Diagnostics", "PassSums", "RUN_DIR_ENV", "SPEC_ENV", "VaeLensInputError",
    "elbo_only_record", "finish_record", "theorem_status",
]


def __getattr__(name: str) -> object:
    # torch is imported only when a torch-facing name is used. RunLogger is the first name Diagnostics had:
    # still importable, so that scripts written with it keep working, but left out of __all__ and the docs.
    if name in ("Diagnostics", "RunLogger", "theorem_status"):
        from . import diagnostics

        return getattr(diagnostics, name)
    raise AttributeError(f"module 'vae_lens' has no attribute {name!r}")
