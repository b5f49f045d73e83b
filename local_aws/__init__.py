"""In-process AWS for tests, the demo and benchmarks: moto plus a fake of the SSM execution APIs."""

import sys
from pathlib import Path

# Run the function's code from its code root, imported as the Lambda runtime imports it
# (`handler`, `mwalerts`), so what runs here is exactly what is deployed.
_CODE_ROOT = str(Path(__file__).resolve().parent.parent / "lambda_src")
if _CODE_ROOT not in sys.path:
    sys.path.insert(0, _CODE_ROOT)
