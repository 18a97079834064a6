from django.urls import path

from defensa.voice import views

app_name = "voice"
urlpatterns = [
    path("incoming/", views.incoming, name="incoming"),
    path("language/", views.choose_language, name="language"),
    path("dialed/", views.dialed, name="dialed"),
    path("screen/", views.screen, name="screen"),
    path("screen/answer/", views.screened, name="screened"),
    path("recorded/", views.recorded, name="recorded"),
    path("recording/", views.recording, name="recording"),
    path("numbers/", views.numbers, name="numbers"),
    path("numbers/<int:pk>/remove/", views.remove_number, name="remove_number"),
    path("voicemails/<int:pk>/", views.voicemail, name="voicemail"),
    path("voicemails/<int:pk>/audio/", views.audio, name="audio"),
    path("languages/", views.languages, name="languages"),
    path("languages/<int:pk>/", views.language_page, name="language_page"),
    path("languages/<int:pk>/remove/", views.remove_language, name="remove_language"),
    path("languages/<int:pk>/<slug:step>/remove/", views.remove_prompt, name="remove_prompt"),
    path("prompt/", views.prompt_audio, name="prompt_audio"),
]
