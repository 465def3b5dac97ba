from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from trail.api import views

app_name = "trail-api"

router = SimpleRouter()
router.register("audit-trail", views.AuditEntryViewSet, basename="audit-entry")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
