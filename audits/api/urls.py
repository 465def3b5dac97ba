from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from audits.api import governance, views

app_name = "audits-api"

router = SimpleRouter()
router.register("checks", views.CheckRunViewSet, basename="check-run")
router.register("findings", views.FindingViewSet, basename="finding")
router.register("policies", views.PolicyVersionViewSet, basename="policy")
router.register("approval-exceptions", views.ApprovalExceptionViewSet, basename="approval-exception")
router.register("evaluations", views.EvaluationRunViewSet, basename="evaluation")
router.register("risks", governance.RiskViewSet, basename="risk")
router.register("incidents", governance.IncidentViewSet, basename="incident")
router.register("feedback", governance.FeedbackViewSet, basename="feedback")
router.register("standards", governance.AppliedStandardViewSet, basename="standard")
router.register("oversight-measures", governance.OversightMeasureViewSet, basename="oversight-measure")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
