"""Emergency plans: the member's own under /me/plan/, dispatchers' triggers under /plans/."""

from django.urls import path

from defensa.cases import views

app_name = "plans"
urlpatterns = [
    path("me/plan/", views.my_plan, name="mine"),
    path("me/plan/trigger/", views.trigger_my_plan, name="trigger_mine"),
    path("me/plan/delete/", views.delete_my_plan, name="delete_mine"),
    path("plans/triggers/<int:pk>/cancel/", views.cancel_trigger, name="cancel"),
    path("plans/<slug:slug>/", views.plan_search, name="search"),
    path("plans/<slug:slug>/<int:pk>/trigger/", views.plan_trigger, name="trigger"),
]
