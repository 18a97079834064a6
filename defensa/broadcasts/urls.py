from django.urls import path

from defensa.broadcasts import views

app_name = "broadcasts"
urlpatterns = [
    path("<slug:slug>/", views.index, name="index"),
    path("<slug:slug>/new/", views.new, name="new"),
    path("<slug:slug>/<int:pk>/", views.detail, name="detail"),
    path("<slug:slug>/<int:pk>/progress/", views.progress_fragment, name="progress"),
    path("<slug:slug>/<int:pk>/send/", views.send, name="send"),
    path("<slug:slug>/<int:pk>/approve/", views.approve, name="approve"),
    path("<slug:slug>/<int:pk>/pause/", views.pause, name="pause"),
    path("<slug:slug>/<int:pk>/resume/", views.resume, name="resume"),
    path("<slug:slug>/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<slug:slug>/<int:pk>/restart/", views.restart, name="restart"),
]
