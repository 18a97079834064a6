"""Setting up the network, under /network/."""

from django.urls import path

from defensa.committees import network_views

app_name = "network"
urlpatterns = [
    path("", network_views.index, name="index"),
    path("place-names/", network_views.place_names, name="place_names"),
    path("<slug:slug>/", network_views.committee, name="committee"),
    path("<slug:slug>/rename/", network_views.rename, name="rename"),
    path("<slug:slug>/new/", network_views.new_committee, name="new"),
    path("<slug:slug>/move/", network_views.move, name="move"),
    path("<slug:slug>/archive/", network_views.archive, name="archive"),
    path("<slug:slug>/area/", network_views.area, name="area"),
    path("<slug:slug>/founders/", network_views.founders, name="founders"),
    path(
        "<slug:slug>/founders/<int:pk>/cancel/",
        network_views.cancel_founding,
        name="cancel_founding",
    ),
]
