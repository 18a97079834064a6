"""A member's own settings, under /me/."""

from django.urls import path

from defensa.committees import me_views

app_name = "me"
urlpatterns = [
    path("", me_views.index, name="index"),
    path("profile/", me_views.profile, name="profile"),
    path("skills/", me_views.skills, name="skills"),
    path("area/", me_views.area, name="area"),
    path("availability/", me_views.availability, name="availability"),
    path("availability/duty/", me_views.on_duty, name="on_duty"),
    path("availability/shifts/", me_views.add_shift, name="add_shift"),
    path("availability/shifts/<int:pk>/remove/", me_views.remove_shift, name="remove_shift"),
    path("availability/shifts/<int:pk>/swap/", me_views.ask_swap, name="ask_swap"),
]
