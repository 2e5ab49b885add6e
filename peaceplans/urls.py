"""Page addresses are public contracts (DESIGN.md): journalists link to them. Keep them stable."""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("plans/<slug:plan>/", views.plan_detail, name="plan_detail"),
    path("plans/<slug:plan>/matrix.csv", views.plan_matrix_csv, name="plan_matrix_csv"),
    path("plans/<slug:plan>/compare/", views.compare, name="compare"),
    path("plans/<slug:plan>/points/<str:point>/", views.point_detail, name="point_detail"),
    path("plans/<slug:plan>/revisions/<slug:revision>/", views.revision_detail, name="revision_detail"),
    path("plans/<slug:plan>/parties/<slug:party>/", views.party_detail, name="party_detail"),
    path("plans/<slug:plan>/timeline/", views.timeline, name="timeline"),
    path("plans/<slug:plan>/changes/", views.change_log, name="change_log"),
    path("sources/", views.source_list, name="source_list"),
    path("admin/", admin.site.urls),
]

handler400 = "peaceplans.views.bad_request"
