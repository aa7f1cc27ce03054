//! End-to-end and interop tests live in `tests/`; this library is empty on purpose.
