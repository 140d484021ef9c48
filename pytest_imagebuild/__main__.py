"""Lets ``python -m pytest_imagebuild`` run the command line."""

import sys

from .cli import main

sys.exit(main())
