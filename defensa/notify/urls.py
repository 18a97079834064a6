from django.urls import path

from defensa.notify import views

app_name = "notify"
urlpatterns = [
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/retry/", views.retry, name="retry"),
    path("deliveries/<int:pk>/cancel/", views.cancel, name="cancel"),
]
