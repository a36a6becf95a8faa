import sys

from sccop.cli.main import main

sys.exit(main())
