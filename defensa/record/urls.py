from django.urls import path

from defensa.record import views
from defensa.record.figures import TABLES

app_name = "record"
urlpatterns = [
    path("incidents/<str:ref>/record/", views.incident_record, name="record"),
    path("incidents/<str:ref>/evidence/<str:key>/", views.evidence_file, name="file"),
    path("verified/", views.verified, name="verified"),
    path("audit-log/", views.audit_log, name="audit_log"),
]
urlpatterns += [
    # A committee setting; the page lives with the feature it switches.
    path("committees/<slug:slug>/public-page/", views.public_page, name="public_page"),
    path("committees/<slug:slug>/archive/", views.archive, name="archive"),
    path("committees/<slug:slug>/archive.csv", views.archive_csv, name="archive_csv"),
]
urlpatterns += [
    path("figures/", views.figures, name="network_figures"),
    path("committees/<slug:slug>/figures/", views.figures, name="figures"),
]
# One address per table, so each is walked (closed by default) like any page.
for _table in TABLES:
    urlpatterns += [
        path(
            f"figures/{_table}.csv",
            views.figures_csv,
            {"table": _table},
            name=f"network_figures_{_table}",
        ),
        path(
            f"committees/<slug:slug>/figures/{_table}.csv",
            views.figures_csv,
            {"table": _table},
            name=f"figures_{_table}",
        ),
    ]
