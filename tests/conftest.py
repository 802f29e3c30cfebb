"""Shared pieces of nncost's tests: the tally of the property tests that compare nncost with torch.

The property tests in ``test_torch_agreement.py`` carry the ``torch_property`` marker and record every
configuration they compare in :data:`LOG` (through the ``torch_log`` fixture). At the end of the run:

- ``pytest_terminal_summary`` prints ``nncost property tests: N configurations compared with torch, M mismatches``;
- ``pytest_sessionfinish`` fails the run (exit status 1) when every property test ran and passed but fewer
  than :data:`MIN_COMPARED` configurations were compared, so a weakened strategy cannot pass unnoticed.
  A run that selects only some of them (``-k``, a node id, another file) is not held to the minimum.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import pytest

try:  # hypothesis keeps a cache (.hypothesis/) even with database=None: keep it out of the repository
    from hypothesis.configuration import set_hypothesis_home_dir
except ImportError:  # pragma: no cover - hypothesis missing or changed
    pass
else:
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "nncost-hypothesis")

MIN_COMPARED = 5000
MARKER = "torch_property"


class ComparisonLog:
    """What the property tests compared with torch in this run."""

    def __init__(self) -> None:
        self.compared: Counter[str] = Counter()  # test name -> configurations compared
        self.mismatches: Counter[str] = Counter()  # test name -> configurations that disagreed
        self.refused: Counter[str] = Counter()  # test name -> invalid configurations both refused
        self.expected: set[str] = set()  # node ids of every property test in the collected modules
        self.selected: set[str] = set()  # node ids of the property tests that will run
        self.passed: set[str] = set()  # node ids of the property tests that passed
        self.verdict = ""  # why the run was failed for too few comparisons, if it was

    def record(self, test: str) -> None:
        """Count one configuration whose counts ``test`` compared (both torch and nncost accepted it)."""
        self.compared[test] += 1

    def record_mismatch(self, test: str) -> None:
        """Count one configuration on which nncost disagreed with torch (a count, or accepting it)."""
        self.mismatches[test] += 1

    def record_refusal(self, test: str) -> None:
        """Count one configuration that torch and nncost both refused."""
        self.refused[test] += 1

    def __repr__(self) -> str:  # short, for hypothesis's report of a failing example
        return f"ComparisonLog(compared={sum(self.compared.values())}, mismatches={sum(self.mismatches.values())})"

    @property
    def ran_in_full(self) -> bool:
        """Every property test ran and passed, the main agreement file among them (a run of one small file of
        property tests alone is not held to the whole suite's minimum)."""
        main = any("test_torch_agreement.py::" in name for name in self.expected)
        return main and self.selected == self.expected and self.passed == self.expected


LOG = ComparisonLog()


@pytest.fixture(scope="session")
def torch_log() -> ComparisonLog:
    """The run's :class:`ComparisonLog` (session-scoped, so hypothesis may use it across examples)."""
    return LOG


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a property test comparing nncost with torch (counted)")


def _marked(obj: object) -> bool:
    return any(getattr(mark, "name", None) == MARKER for mark in getattr(obj, "pytestmark", []))


def pytest_collection_finish(session: pytest.Session) -> None:
    modules = {}
    for item in session.items:
        if item.get_closest_marker(MARKER) is not None:
            LOG.selected.add(item.nodeid)
            module = item.getparent(pytest.Module)
            if module is not None:
                modules[module.nodeid] = module
    for nodeid, module in modules.items():
        for name, obj in vars(module.obj).items():
            if name.startswith("test") and callable(obj) and _marked(obj):
                LOG.expected.add(f"{nodeid}::{name}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and report.nodeid in LOG.selected:
        LOG.passed.add(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    total = sum(LOG.compared.values())
    if LOG.ran_in_full and total < MIN_COMPARED:
        LOG.verdict = (
            f"nncost property tests: only {total} configurations were compared with torch, "
            f"fewer than the required {MIN_COMPARED}: the run fails"
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not LOG.selected:
        return
    total, bad = sum(LOG.compared.values()), sum(LOG.mismatches.values())
    terminalreporter.write_sep("-", "nncost vs torch")
    terminalreporter.write_line(f"nncost property tests: {total} configurations compared with torch, {bad} mismatches")
    parts = ", ".join(f"{name} {count}" for name, count in sorted(LOG.compared.items()))
    terminalreporter.write_line(f"  compared: {parts or 'none'}")
    parts = ", ".join(f"{name} {count}" for name, count in sorted(LOG.refused.items()))
    terminalreporter.write_line(f"  refused by both torch and nncost: {parts or 'none'}")
    if LOG.verdict:
        terminalreporter.write_line(LOG.verdict, red=True, bold=True)
