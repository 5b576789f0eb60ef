import sys

from reverie.client.ctl.cli import main

sys.exit(main())
