"""
Lighthouse's Accessibility, Best Practices and SEO at 100 on the pages journalists land on, in its
default mobile emulation, against the app as `make run` serves it (gunicorn, DEBUG off, the CSP).
Performance is measured by `make bench`, not here: it depends on the machine's load.
"""

import pytest

from tests.lighthouse import audit, chromium, missing

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLAN = "russia-ukraine-2025"
PAGES = {
    "overview": f"/plans/{PLAN}/",
    "compare": f"/plans/{PLAN}/compare/?a=us-28-point-draft&b=e3-counter-proposal",
    "point": f"/plans/{PLAN}/points/21d/",
    "party": f"/plans/{PLAN}/parties/russia/",
    "search": "/search/?q=donetsk",
}
CATEGORIES = ["accessibility", "best-practices", "seo"]


@pytest.fixture(scope="module")
def lighthouse_port():
    """One Chromium for every page of this module, as Lighthouse's DevTools target."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    with chromium() as port:
        yield port


@pytest.mark.parametrize("page", PAGES)
def test_lighthouse_scores_accessibility_best_practices_and_seo_100(server_url, lighthouse_port, page):
    result = audit(server_url + PAGES[page], CATEGORIES, lighthouse_port)
    assert set(result["scores"]) == set(CATEGORIES)
    below = {category: score for category, score in result["scores"].items() if score != 100}
    failing = [
        f"{category}: {audit_id} ({title}) scored {score}"
        for category in below
        for audit_id, title, score in result["failing"][category]
    ]
    assert not below, f"{page} {PAGES[page]}: {below}; failing audits: " + "; ".join(failing)
