from django.urls import path

from defensa.demo import views

app_name = "demo"

urlpatterns = [
    path("demo/messages/", views.messages_sent, name="messages"),
]
