"""The security tests run the app as tests/e2e does: `build_app` on a RecordingSession, real
aiogram Updates through the real Dispatcher, on the real Redis of tests/conftest.py."""

from tests.e2e.conftest import hotline, make_hotline  # noqa: F401  (the e2e fixtures)
