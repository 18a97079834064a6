from django.urls import path

from defensa.accompaniment import views

app_name = "accompaniment"
urlpatterns = [
    # Short, because it goes into text messages.
    path("a/<str:token>/", views.checkin, name="checkin"),
    path("accompaniment/", views.index, name="index"),
    path("accompaniment/<int:pk>/sign-up/", views.sign_up, name="sign_up"),
    path("accompaniment/mine/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("accompaniment/calendar-link/", views.my_calendar, name="my_calendar"),
    path("accompaniment/cal/<str:token>.ics", views.feed, name="feed"),
    path("accompaniment/c/<slug:slug>/", views.calendar, name="calendar"),
    path("accompaniment/c/<slug:slug>/new/", views.new, name="new"),
    path("accompaniment/c/<slug:slug>/places/", views.add_place, name="add_place"),
    path("accompaniment/c/<slug:slug>/<int:pk>/", views.appointment, name="appointment"),
    path("accompaniment/c/<slug:slug>/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("accompaniment/c/<slug:slug>/<int:pk>/cancel/", views.cancel, name="cancel"),
    path(
        "accompaniment/c/<slug:slug>/<int:pk>/companions/<int:cid>/<slug:verb>/",
        views.companion,
        name="companion",
    ),
]
