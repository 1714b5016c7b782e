"""``python -m mcsim``: the command line (see ``mcsim --help``)."""
import sys

from mcsim.cli import main

if __name__ == "__main__":
    sys.exit(main())
