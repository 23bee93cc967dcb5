import sys

from trainfree.cli import main

sys.exit(main())
