from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from audits.api import views

app_name = "audits-api"

router = SimpleRouter()
router.register("checks", views.CheckRunViewSet, basename="check-run")
router.register("findings", views.FindingViewSet, basename="finding")
router.register("policies", views.PolicyVersionViewSet, basename="policy")
router.register("approval-exceptions", views.ApprovalExceptionViewSet, basename="approval-exception")
router.register("evaluations", views.EvaluationRunViewSet, basename="evaluation")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
