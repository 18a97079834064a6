from django.urls import path

from defensa.incidents import views

app_name = "incidents"
urlpatterns = [
    path("incidents/<str:ref>/merge/", views.merge, name="merge"),
    path("incidents/<str:ref>/split/", views.split, name="split"),
    path("incidents/<str:ref>/place/", views.place, name="place"),
]
