from django.urls import URLPattern, URLResolver, path

from audits.views import evaluations, findings, governance, policies, runs

app_name = "audits"

urlpatterns: list[URLPattern | URLResolver] = [
    path("checks/", runs.CheckRunListView.as_view(), name="run_list"),
    path("checks/new/bias/", runs.BiasCheckRequestView.as_view(), name="bias_new"),
    path("checks/new/pii/", runs.PiiCheckRequestView.as_view(), name="pii_new"),
    path("checks/new/memorisation/", runs.MemorisationCheckRequestView.as_view(), name="memorisation_new"),
    path("checks/<uuid:uuid>/", runs.CheckRunDetailView.as_view(), name="run_detail"),
    path("checks/<uuid:uuid>/progress/", runs.CheckRunProgressView.as_view(), name="run_progress"),
    path("checks/<uuid:uuid>/cancel/", runs.CheckRunCancelView.as_view(), name="run_cancel"),
    path("checks/<uuid:uuid>/rerun/", runs.CheckRunRerunView.as_view(), name="run_rerun"),
    path("findings/", findings.FindingListView.as_view(), name="finding_list"),
    path("findings/<uuid:uuid>/", findings.FindingDetailView.as_view(), name="finding_detail"),
    path("policies/", policies.PolicyListView.as_view(), name="policy_list"),
    path("policies/choose/", policies.PolicyChooseView.as_view(), name="policy_choose"),
    path("policies/<str:kind>/", policies.PolicyEditView.as_view(), name="policy_default_edit"),
    path("policies/<str:kind>/systems/<uuid:system>/", policies.PolicyEditView.as_view(), name="policy_system_edit"),
    path(
        "model-versions/<uuid:uuid>/approval-exceptions/",
        policies.ApprovalExceptionCreateView.as_view(),
        name="exception_create",
    ),
    path(
        "approval-exceptions/<uuid:uuid>/revoke/",
        policies.ApprovalExceptionRevokeView.as_view(),
        name="exception_revoke",
    ),
    path("model-versions/<uuid:uuid>/canaries/", policies.CanaryCreateView.as_view(), name="canary_create"),
    path("canaries/<uuid:uuid>/delete/", policies.CanaryDeleteView.as_view(), name="canary_delete"),
    path("evaluations/new/", evaluations.EvaluationImportView.as_view(), name="evaluation_new"),
    path("evaluations/<uuid:uuid>/", evaluations.EvaluationDetailView.as_view(), name="evaluation_detail"),
    path("systems/<uuid:system>/governance/", governance.SystemGovernanceView.as_view(), name="governance"),
    path("systems/<uuid:system>/feedback/import/", governance.FeedbackImportView.as_view(), name="feedback_import"),
    path(
        "systems/<uuid:system>/risks/new/",
        governance.GovernanceRecordCreateView.as_view(kind="risk"),
        name="risk_create",
    ),
    path("risks/<uuid:uuid>/edit/", governance.GovernanceRecordEditView.as_view(kind="risk"), name="risk_edit"),
    path("risks/<uuid:uuid>/delete/", governance.GovernanceRecordDeleteView.as_view(kind="risk"), name="risk_delete"),
    path(
        "systems/<uuid:system>/incidents/new/",
        governance.GovernanceRecordCreateView.as_view(kind="incident"),
        name="incident_create",
    ),
    path(
        "incidents/<uuid:uuid>/edit/",
        governance.GovernanceRecordEditView.as_view(kind="incident"),
        name="incident_edit",
    ),
    path(
        "incidents/<uuid:uuid>/delete/",
        governance.GovernanceRecordDeleteView.as_view(kind="incident"),
        name="incident_delete",
    ),
    path(
        "systems/<uuid:system>/feedback/new/",
        governance.GovernanceRecordCreateView.as_view(kind="feedback"),
        name="feedback_create",
    ),
    path(
        "feedback/<uuid:uuid>/edit/", governance.GovernanceRecordEditView.as_view(kind="feedback"), name="feedback_edit"
    ),
    path(
        "feedback/<uuid:uuid>/delete/",
        governance.GovernanceRecordDeleteView.as_view(kind="feedback"),
        name="feedback_delete",
    ),
    path(
        "systems/<uuid:system>/standards/new/",
        governance.GovernanceRecordCreateView.as_view(kind="standard"),
        name="standard_create",
    ),
    path(
        "standards/<uuid:uuid>/edit/",
        governance.GovernanceRecordEditView.as_view(kind="standard"),
        name="standard_edit",
    ),
    path(
        "standards/<uuid:uuid>/delete/",
        governance.GovernanceRecordDeleteView.as_view(kind="standard"),
        name="standard_delete",
    ),
    path(
        "systems/<uuid:system>/oversight-measures/new/",
        governance.GovernanceRecordCreateView.as_view(kind="oversight"),
        name="oversight_create",
    ),
    path(
        "oversight-measures/<uuid:uuid>/edit/",
        governance.GovernanceRecordEditView.as_view(kind="oversight"),
        name="oversight_edit",
    ),
    path(
        "oversight-measures/<uuid:uuid>/delete/",
        governance.GovernanceRecordDeleteView.as_view(kind="oversight"),
        name="oversight_delete",
    ),
]
