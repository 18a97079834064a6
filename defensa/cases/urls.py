from django.urls import path

from defensa.cases import hold_views, views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("holds/", hold_views.hold_list, name="holds"),
    path("holds/<int:pk>/release/", hold_views.hold_release, name="hold_release"),
    path("holds/<int:pk>/approve/", hold_views.hold_approve, name="hold_approve"),
    path("<int:pk>/", views.case_detail, name="case"),
    path("<int:pk>/reveal/", views.case_reveal, name="reveal"),
    path("<int:pk>/tasks/<int:task>/done/", views.task_done, name="task_done"),
    path("<int:pk>/<slug:part>/", views.case_update, name="update"),
]
