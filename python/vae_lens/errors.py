"""The one exception the package raises for bad input from the user's side."""
from __future__ import annotations


class VaeLensInputError(ValueError):
    """Something the user handed over (a callable's output, an argument, the data) is not what a
    Gaussian VAE's diagnostics need. The message names the callable or argument and the shapes.
    Nothing already written to the run folder is touched when this is raised."""
