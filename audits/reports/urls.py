from django.urls import URLPattern, URLResolver, path

from audits.reports import views

app_name = "reports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.ReportListView.as_view(), name="list"),
    path("new/", views.ReportRequestView.as_view(), name="new"),
    path("verify/", views.ReportVerifyView.as_view(), name="verify"),
    path("<uuid:uuid>/", views.ReportDetailView.as_view(), name="detail"),
    path("<uuid:uuid>/progress/", views.ReportProgressView.as_view(), name="progress"),
    path("<uuid:uuid>/document/", views.ReportHtmlView.as_view(), name="document"),
    path("<uuid:uuid>/pdf/", views.ReportPdfView.as_view(), name="pdf"),
    path("<uuid:uuid>/sign/", views.ReportSignView.as_view(), name="sign"),
]
