"""``python -m refundctl``: the same as the ``refundctl`` command."""

from refundctl.cli import main

main()
