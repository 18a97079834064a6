from django.urls import path

from defensa.trees import views

app_name = "trees"
urlpatterns = [
    path("trees/", views.index, name="index"),
    path("trees/new/<slug:slug>/", views.new, name="new"),
    path("trees/<int:pk>/", views.tree, name="tree"),
    path("trees/<int:pk>/captains/", views.captains, name="captains"),
    path("trees/<int:pk>/move/", views.move, name="move"),
    path("trees/<int:pk>/start/", views.start, name="start"),
    path("trees/cascade/<int:pk>/", views.cascade, name="cascade"),
    path("trees/cascade/<int:pk>/live/", views.live, name="live"),
    path("trees/cascade/<int:pk>/end/", views.end, name="end"),
    path("trees/cascade/<int:pk>/captain/", views.captain, name="captain"),
    path("trees/cascade/<int:pk>/captain/text/", views.text_group, name="text_group"),
    path("trees/cascade/<int:pk>/captain/done/", views.report_group, name="report_group"),
    path("trees/cascade/<int:pk>/call/<int:reach>/", views.log_call, name="log_call"),
    path("trees/cascade/<int:pk>/number/<int:reach>/", views.reveal_number, name="number"),
    # The one-tap link of a cascade's text: the token is the credential.
    path("trees/c/<str:token>/", views.confirm, name="confirm"),
]
