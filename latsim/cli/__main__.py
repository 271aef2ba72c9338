"""``python -m latsim.cli``: the same as the ``latsim`` command."""

from latsim.cli import main

main()
