"""Page addresses are public contracts (docs/newsroom.md, "Pages"): journalists link to them. Keep them stable."""

from django.contrib import admin
from django.urls import path, re_path

from peaceplans.ops import health
from peaceplans.publish import api, embeds, exports, feeds
from peaceplans.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("plans/<slug:plan>/", views.plan_detail, name="plan_detail"),
    path("plans/<slug:plan>/matrix.csv", exports.plan_matrix_csv, name="plan_matrix_csv"),
    path("plans/<slug:plan>/compare/", views.compare, name="compare"),
    path("plans/<slug:plan>/points/<str:point>/", views.point_detail, name="point_detail"),
    path(
        "plans/<slug:plan>/points/<str:point>/stances/<slug:party>/",
        views.point_party_stances,
        name="point_party_stances",
    ),
    path("plans/<slug:plan>/revisions/<slug:revision>/", views.revision_detail, name="revision_detail"),
    path("plans/<slug:plan>/parties/<slug:party>/", views.party_detail, name="party_detail"),
    path("plans/<slug:plan>/timeline/", views.timeline, name="timeline"),
    path("plans/<slug:plan>/changes/", views.change_log, name="change_log"),
    path("sources/", views.source_list, name="source_list"),
    path("search/", views.search_page, name="search"),
    # CSV exports of the pages' tables, with the same filters (exports.py)
    path("plans/<slug:plan>/timeline.csv", exports.timeline_csv, name="timeline_csv"),
    path("plans/<slug:plan>/compare.csv", exports.compare_csv, name="compare_csv"),
    path("plans/<slug:plan>/points/<str:point>/wording.csv", exports.wording_csv, name="wording_csv"),
    path("plans/<slug:plan>/points/<str:point>/stances.csv", exports.stances_csv, name="stances_csv"),
    path("plans/<slug:plan>/revisions/<slug:revision>/clauses.csv", exports.clauses_csv, name="clauses_csv"),
    path("plans/<slug:plan>/parties/<slug:party>/positions.csv", exports.positions_csv, name="positions_csv"),
    path("plans/<slug:plan>/changes.csv", exports.changes_csv, name="changes_csv"),
    path("sources.csv", exports.sources_csv, name="sources_csv"),
    path("feeds/plans/<slug:plan>/", feeds.PlanFeed(), name="feed_plan"),
    path("feeds/plans/<slug:plan>/points/<str:point>/", feeds.PointFeed(), name="feed_point"),
    path("feeds/plans/<slug:plan>/parties/<slug:party>/", feeds.PartyFeed(), name="feed_party"),
    # The read-only JSON API, its documented schema page and the whole-dataset download (api.py, openapi.py)
    path("plans/<slug:plan>/dataset.json", api.plan_dataset, name="plan_dataset"),
    path("api/", api.docs, name="api_docs"),
    path("api/v1/", api.index, name="api_index"),
    path("api/v1/openapi.json", api.openapi_json, name="api_openapi"),
    path("api/v1/parties/", api.parties, name="api_parties"),
    path("api/v1/parties/<str:party>/", api.party, name="api_party"),
    path("api/v1/plans/", api.plans, name="api_plans"),
    path("api/v1/plans/<str:plan>/", api.plan, name="api_plan"),
    path("api/v1/plans/<str:plan>/revisions/", api.revisions, name="api_revisions"),
    path("api/v1/plans/<str:plan>/revisions/<str:revision>/", api.revision, name="api_revision"),
    path("api/v1/plans/<str:plan>/points/", api.points, name="api_points"),
    path("api/v1/plans/<str:plan>/points/<str:point>/", api.point, name="api_point"),
    path("api/v1/plans/<str:plan>/stances/", api.stances, name="api_stances"),
    path("api/v1/plans/<str:plan>/events/", api.events, name="api_events"),
    re_path(r"^api/v1/", api.not_found),  # anything else under the API answers in JSON too
    # The only pages other sites may frame, and their oEmbed description (embeds.py)
    path("embed/plans/<slug:plan>/points/<str:point>/", embeds.embed_point, name="embed_point"),
    path("embed/plans/<slug:plan>/compare/", embeds.embed_compare, name="embed_compare"),
    path("oembed/", embeds.oembed, name="oembed"),
    path("healthz", health.healthz, name="healthz"),  # for load balancers and monitors (health.py)
    path("admin/", admin.site.urls),
]

handler400 = "peaceplans.ops.errors.bad_request"
handler404 = "peaceplans.ops.errors.not_found"  # JSON under the API (ops/surface.py), the 404 page elsewhere
handler500 = "peaceplans.ops.faults.server_error"  # a database outage: 503; else security.server_error (always renders)
