from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from audits.reports.api import ReportViewSet

app_name = "reports-api"

router = SimpleRouter()
router.register("reports", ReportViewSet, basename="report")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
