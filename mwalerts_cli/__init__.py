"""Operator commands for maintenance-window-alerts (run with the project's .venv)."""

import sys
from pathlib import Path

# The commands reuse the function's own code (lambda_src/), imported as the Lambda runtime does.
_CODE_ROOT = str(Path(__file__).resolve().parent.parent / "lambda_src")
if _CODE_ROOT not in sys.path:
    sys.path.insert(0, _CODE_ROOT)
