"""``python -m s3forensics.cli``: the same as the ``s3forensics`` command."""

import sys

from s3forensics.cli import main

sys.exit(main())
