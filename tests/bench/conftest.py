"""The benchmark's own smoke test is marked `bench`, so `pytest -m "not bench"` leaves it out."""


def pytest_configure(config):
    config.addinivalue_line("markers", "bench: runs `make bench` in its quick mode (about a minute)")
