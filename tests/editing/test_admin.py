"""The admin: staff only, and every model can be browsed, searched, filtered and opened."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db

MODELS = [m for m in admin.site._registry if m._meta.app_label == "peaceplans"]


@pytest.fixture
def staff_client(client):
    user = User.objects.create_superuser("chief", "chief@example.org", "a-long-test-password-1")
    client.force_login(user)
    return client


def test_every_peaceplans_model_is_registered():
    names = {m.__name__ for m in MODELS}
    assert names == {
        "Plan",
        "Party",
        "Topic",
        "Source",
        "Revision",
        "Point",
        "Clause",
        "Stance",
        "Event",
        "Annotation",
        "Alias",
    }


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/admin/peaceplans/stance/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_logged_in_non_staff_users_do_not_reach_the_admin(client):
    client.force_login(User.objects.create_user("reader", password="a-long-test-password-2"))
    response = client.get("/admin/peaceplans/stance/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_search_and_filters_work(staff_client, model):
    """Each changelist opens, and a hostile search (quotes, Cyrillic, markup) does not break it."""
    url = reverse(f"admin:peaceplans_{model._meta.model_name}_changelist")
    response = staff_client.get(url)
    assert response.status_code == 200
    if model.objects.exists():
        assert "0 results" not in response.content.decode()
    assert staff_client.get(url, {"q": "'\"<script>Жовтень 600,000"}).status_code == 200


@pytest.mark.parametrize("model", [m for m in MODELS if m.__name__ != "Annotation"], ids=lambda m: m.__name__)
def test_change_and_history_pages_open(staff_client, model):
    obj = model.objects.first()
    change = reverse(f"admin:peaceplans_{model._meta.model_name}_change", args=[obj.pk])
    history = reverse(f"admin:peaceplans_{model._meta.model_name}_history", args=[obj.pk])
    assert staff_client.get(change).status_code == 200
    page = staff_client.get(history)
    assert page.status_code == 200
    assert "Change history" in page.content.decode() or "history" in page.content.decode().lower()


def test_editing_a_clause_in_the_admin_records_who_changed_it(staff_client):
    """django-simple-history records the editor of each change."""
    from peaceplans.models import Clause

    clause = Clause.objects.filter(dropped=False).first()
    history = clause.history.count()
    url = reverse("admin:peaceplans_clause_change", args=[clause.pk])
    form = staff_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["sources"] = [s.pk for s in clause.sources.all()]
    data["text"] = "Corrected wording, 600,000."
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    clause.refresh_from_db()
    assert clause.text == "Corrected wording, 600,000."
    assert clause.history.count() > history
    assert clause.history.first().history_user.username == "chief"


@pytest.mark.parametrize(
    "url", ["/admin/login/", "/admin/", "/admin/peaceplans/revision/", "/admin/peaceplans/point/add/"]
)
def test_admin_pages_name_the_site_icon_and_keep_the_site_header(client, url):
    """Without the icon link Chromium asks for /favicon.ico on every admin page: a 404 in the console."""
    if url != "/admin/login/":
        client.force_login(User.objects.create_superuser("chief", "chief@example.org", "a-long-test-password-1"))
    html = client.get(url).content.decode()
    assert html.count('<link rel="icon" href="/static/peaceplans/favicon.') == 1
    assert "peaceplans editors" in html  # Django's base_site.html still fills the branding
