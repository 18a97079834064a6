from django.urls import path

from defensa.subscribers import views

app_name = "subscribers"
urlpatterns = [
    path("alerts/subscribe/", views.subscribe, name="subscribe"),
    path("alerts/subscribe/confirm/", views.confirm, name="confirm"),
    path("alerts/subscribers/<slug:slug>/", views.counts, name="counts"),
]
