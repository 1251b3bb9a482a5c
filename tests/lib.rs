//! Black-box tests live in `api/`; this library is intentionally empty.
