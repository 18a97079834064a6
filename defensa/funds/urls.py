from django.urls import path

from defensa.funds import views

app_name = "funds"
urlpatterns = [
    path("funds/", views.index, name="index"),
    path("funds/new/<slug:slug>/", views.new, name="new"),
    path("funds/<int:pk>/", views.detail, name="detail"),
    path("funds/<int:pk>/apply/", views.apply, name="apply"),
    path("funds/<int:pk>/reviewers/", views.reviewers, name="reviewers"),
    path("funds/<int:pk>/review/", views.review, name="review"),
    path("funds/<int:pk>/money-in/", views.money_in, name="money_in"),
    path("funds/<int:pk>/ledger.csv", views.ledger_csv, name="ledger_csv"),
    path("funds/<int:pk>/applications/<int:app>/approve/", views.approve, name="approve"),
    path("funds/<int:pk>/applications/<int:app>/decline/", views.decline, name="decline"),
    path("funds/<int:pk>/applications/<int:app>/disburse/", views.disburse, name="disburse"),
]
