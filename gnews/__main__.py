"""``python -m gnews`` is the ``gnews`` command."""

from gnews.cli import main

main()
