"""G-News / GAC backend: the composition roots, settings, job names and plugin contract.

The subpackages are the domains (accounts … notifications), ``core``, ``thai``, ``geo`` and
``dev``; see the README's repository layout.
"""

__version__ = "0.1.0"
