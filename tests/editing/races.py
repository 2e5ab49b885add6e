"""
Two saves of the same thing at the same moment, and how each round ended: what
test_simultaneous_saves.py (in process) and test_simultaneous_saves_servers.py (two app servers)
share. No Django imports: the server tests drive the app over HTTP only.

A round: two threads, each with its own signed-in session (and its own database connection, or its
own app server), post the same form opened at the same version with a different text, released
together by a threading.Barrier. Then the stored text is read. A round is
- refused: one save accepted (302), the other answered with the conflict page (200, "Not saved, so
  that neither edit is lost."), and the stored text is the accepted one's: nothing lost;
- lost: both accepted, so one edit overwrote the other without a word (the bug of issue 19);
- other: anything else (an error, a 500, the stored text neither of theirs), shown in full.
"""

import io
import os
import re
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

CONFLICT = "Not saved, so that neither edit is lost."


@dataclass
class Answer:
    status: int
    body: str
    started: float
    ended: float


@dataclass
class Tally:
    """The outcome of every round of one race."""

    label: str
    rounds: int = 0
    refused: int = 0
    lost: int = 0
    overlapped: int = 0  # rounds whose two requests were being served at the same time
    other: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.label}: {self.lost} lost of {self.rounds} rounds, {self.refused} refused with the conflict page, "
            f"{len(self.other)} other; both requests in flight together in {self.overlapped}; {self.seconds:.1f} s"
        )

    def as_dict(self) -> dict:
        return {key: getattr(self, key) for key in ("label", "rounds", "refused", "lost", "overlapped", "other")} | {
            "seconds": self.seconds
        }


def race(posts: list[Callable[[], tuple[int, str]]], *, timeout: float = 60) -> list[Answer]:
    """Run each `post` in a thread of its own, all released together; their answers, in order."""
    barrier = threading.Barrier(len(posts))
    answers: list[Answer | None] = [None] * len(posts)

    def run(n: int) -> None:
        started = time.monotonic()
        try:
            barrier.wait(timeout=timeout)
            started = time.monotonic()
            status, body = posts[n]()
        except Exception as exc:  # noqa: BLE001 (a failure is an outcome of the round, reported)
            status, body = -1, f"{type(exc).__name__}: {exc}"
        answers[n] = Answer(status, body, started, time.monotonic())

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return [answer or Answer(-1, "no answer (thread still running)", 0, 0) for answer in answers]


def judge(tally: Tally, answers: list[Answer], texts: list[str], stored: str) -> None:
    """Count one round of two saves of `texts` (in the order of `answers`) that left `stored`."""
    tally.rounds += 1
    one, two = answers
    if max(one.started, two.started) < min(one.ended, two.ended):
        tally.overlapped += 1
    saved = [n for n, answer in enumerate(answers) if answer.status == 302]
    refused = [n for n, answer in enumerate(answers) if answer.status == 200 and CONFLICT in answer.body]
    if len(saved) == 2:
        tally.lost += 1
    elif len(saved) == 1 and len(refused) == 1 and stored == texts[saved[0]]:
        loser = refused[0]
        # Both versions on the loser's page: theirs named in the message, the editor's own in the form.
        if texts[saved[0]] in answers[loser].body and texts[loser] in answers[loser].body:
            tally.refused += 1
        else:
            tally.other.append(f"round {tally.rounds}: the conflict page lacks a version")
    else:
        statuses = [answer.status for answer in answers]
        detail = " | ".join(answer.body[:300] for answer in answers if answer.status not in (200, 302))
        tally.other.append(f"round {tally.rounds}: {statuses}, stored {stored[:60]!r} {detail}")


def rounds(
    tally: Tally,
    count: int,
    prepare: Callable[[int], tuple[list[Callable[[], tuple[int, str]]], list[str]]],
    stored: Callable[[], str],
) -> Tally:
    """
    `count` rounds: `prepare(n)` gives the round's two posts (already holding the same starting
    version) and their texts; `stored()` reads the text kept once both have answered.
    """
    began = time.monotonic()
    for n in range(count):
        posts, texts = prepare(n)
        answers = race(posts)
        judge(tally, answers, texts, stored())
    tally.seconds = time.monotonic() - began
    return tally


# ---- In process: run in a spawned process, on a database of its own (Django set up there) ----


def point_with_stances(count: int = 3):
    """A point with at least `count` stances, the fewest such (a light form)."""
    from django.db.models import Count

    from peaceplans.models import Point

    return Point.objects.annotate(n=Count("stances")).filter(n__gte=count).order_by("n", "pk").first()


def row_prefix(data: dict, prefix: str, pk: int) -> str:
    """The form prefix ("stances-2") of the inline row holding object `pk` in the form's `data`."""
    rows = (key.removesuffix("-id") for key, value in data.items() if re.fullmatch(rf"{prefix}-\d+-id", key))
    return next(row for row in rows if int(data[f"{row}-id"]) == pk)


def configure(url: str) -> None:
    """Django set up in this (spawned) process on the database at `url`, migrated, the demo loaded."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "peaceplans.settings"
    os.environ.setdefault("DJANGO_SECRET_KEY", "simultaneous-saves-test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, and the pages' context for reading the forms
    warnings.filterwarnings("ignore", "No directory at")  # whitenoise, without collectstatic (as in conftest)
    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0, stdout=io.StringIO())


def simultaneous(url: str, count: int, results) -> None:
    """`count` rounds on a clause's own form, then on a stance in the point form; the tallies to `results`."""
    configure(url)
    from django.contrib.auth.models import Group, User
    from django.db import connections
    from django.test import Client, override_settings

    from peaceplans.editing.admin_history import latest_version
    from peaceplans.models import Clause
    from tests.editing.test_history_safety import change_url, form_data

    override_settings(
        STORAGES={"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
        WHITENOISE_USE_FINDERS=True,
    ).enable()
    clients = []
    for name in ("desk-a", "desk-b"):
        user = User.objects.create_user(name, is_staff=True)
        user.groups.add(Group.objects.get(name="Editors"))
        clients.append(Client())
        clients[-1].force_login(user)

    def post(client, url, data):
        try:
            response = client.post(url, data)
            return response.status_code, response.content.decode()
        finally:
            connections.close_all()  # this thread's connection

    def race_on(label, url, text_field, target, versions):
        data = {key: value for key, value in form_data(clients[0], url).items() if key != "csrfmiddlewaretoken"}

        def prepare(n):
            texts = [f"Round {n}, the wording of editor {who}." for who in "AB"]
            now = versions()  # read once: both posts start from the same version
            posts = [
                lambda client=client, text=text: post(client, url, data | now | {text_field: text})
                for client, text in zip(clients, texts, strict=True)
            ]
            return posts, texts

        field = text_field.rsplit("-", 1)[-1]
        return rounds(Tally(label), count, prepare, lambda: getattr(type(target).objects.get(pk=target.pk), field))

    clause = Clause.objects.filter(dropped=False, revision__public=True).exclude(point=None).order_by("pk").first()
    by_itself = race_on(
        "a clause's own form", change_url(clause), "text", clause, lambda: {"edit_version": latest_version(clause)}
    )
    point = point_with_stances(2)
    stance = point.stances.order_by("pk").first()
    row = row_prefix(form_data(clients[0], change_url(point)), "stances", stance.pk)
    inline = race_on(
        "a stance in the point form",
        change_url(point),
        f"{row}-summary",
        stance,
        lambda: {f"{row}-edit_version": latest_version(stance), "edit_version": latest_version(point)},
    )
    results.put({"vendor": connections["default"].vendor, "tallies": [by_itself.as_dict(), inline.as_dict()]})
