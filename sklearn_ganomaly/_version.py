"""The package's version, in a module of its own that imports nothing.

The estimator and the model files record the version that wrote them; reading
it from here rather than from the package's ``__init__`` keeps the modules
that record it from importing the package that imports them.
"""

__version__ = "0.1.0"
