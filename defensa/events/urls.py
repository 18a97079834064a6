from django.urls import path

from defensa.events import views

app_name = "events"
urlpatterns = [
    path("events/", views.index, name="index"),
    path("events/new/<slug:slug>/", views.new, name="new"),
    path("events/<int:pk>/", views.detail, name="detail"),
    path("events/<int:pk>/shifts/new/", views.shift_new, name="shift_new"),
    path("events/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("events/<int:pk>/rsvp/", views.rsvp, name="rsvp"),
    path("events/<int:pk>/rsvp/<int:rsvp_pk>/cancel/", views.not_coming, name="not_coming"),
    path("events/<int:pk>/checkin/", views.checkin, name="checkin"),
    path("events/<int:pk>/list/", views.attendees, name="attendees"),
    path("events/<int:pk>/arrest/", views.arrest, name="arrest"),
    # A public event's page: its short code goes into texts and onto flyers.
    path("events/p/<str:code>/", views.public_page, name="public"),
]
