"""`python -m campaign_executions` runs the console command."""

import sys

from .cli import main

sys.exit(main())
