from django.urls import URLPattern, URLResolver, path

from trail import views

app_name = "trail"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.AuditEntryListView.as_view(), name="list"),
    path("<int:seq>/", views.AuditEntryDetailView.as_view(), name="detail"),
]
