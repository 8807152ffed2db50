import sys

from cfg_distortion.cli.app import main

sys.exit(main())
