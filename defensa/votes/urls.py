from django.urls import path

from defensa.votes import views

app_name = "votes"
urlpatterns = [
    path("votes/", views.index, name="index"),
    path("votes/new/<slug:slug>/", views.new, name="new"),
    path("votes/<int:pk>/", views.detail, name="detail"),
    path("votes/<int:pk>/close/", views.close, name="close"),
    path("votes/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("votes/<int:pk>/helios-roll.csv", views.helios_roll, name="helios_roll"),
    # The vote's page for voters: its code is short, it goes into text messages.
    path("votes/v/<str:code>/", views.ballot, name="ballot"),
]
