import sys

from quartier.cli.base import main

sys.exit(main())
