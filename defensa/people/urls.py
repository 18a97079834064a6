from django.urls import path

from defensa.people import views

app_name = "people"
urlpatterns = [
    path("<slug:slug>/people/", views.home, name="home"),
    path("<slug:slug>/people/import/", views.upload, name="upload"),
    path("<slug:slug>/people/import/<int:pk>/", views.import_job, name="import"),
    path("<slug:slug>/people/import/<int:pk>/errors.csv", views.error_report, name="errors"),
    path("<slug:slug>/people/import/<int:pk>/discard/", views.discard, name="discard"),
    path("<slug:slug>/people/invite/", views.invite, name="invite"),
    path("<slug:slug>/people/invitees/<int:pk>/forget/", views.forget, name="forget"),
    path("<slug:slug>/people/export/", views.export, name="export"),
    path("<slug:slug>/people/export/<int:pk>/download/", views.download, name="download"),
    path("<slug:slug>/people/export/<int:pk>/<str:verb>/", views.decide_export, name="decide"),
]
