"""The test suite, laid out like the code: one folder per package (``emrtd``, ``cccd``,
``eligibility``, ``checkin``, ``offline_cache``, ``drivers``, ``simulators``, ``app``, ``cli``,
``ui``), the shared fixtures and stand-ins in ``fixtures``, the data the tests read in ``data``.
"""

from pathlib import Path

#: The repository root and the test data folder.
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
