"""The reports API: list, generate, read, sign, download, and verify a PDF."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from access.actors import Actor
from access.api.serializers import RejectUnknownFieldsMixin
from access.models import Team
from audits.choices import ReportKind, ReportLanguage
from audits.models import Report
from audits.reports.services import (
    access_report,
    do_request_report,
    do_sign_report,
    verify_pdf,
    visible_reports,
)
from audits.services.runs import access_target

MAX_VERIFY_BYTES = 200 * 1024 * 1024


class ReportSerializer(serializers.ModelSerializer):
    scope = serializers.CharField(source="scope_label", read_only=True)
    system: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    model_version: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    team: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    pdf_url = serializers.SerializerMethodField()
    signed = serializers.BooleanField(source="is_signed", read_only=True)

    class Meta:
        model = Report
        fields = [
            "uuid",
            "kind",
            "language",
            "scope",
            "system",
            "model_version",
            "team",
            "state",
            "progress",
            "error",
            "snapshot_sha256",
            "pdf_sha256",
            "completeness",
            "generator",
            "actor_label",
            "created_at",
            "generated_at",
            "signed",
            "signer_name",
            "signer_role",
            "signed_at",
            "statement",
            "pdf_url",
        ]
        read_only_fields = fields

    def get_pdf_url(self, report: Report) -> str | None:
        return f"/api/v1/reports/{report.uuid}/pdf/" if report.pdf else None


class ReportRequestSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    target = serializers.CharField(
        required=False, help_text="modelversion:<uuid> (model audit) or aisystem:<uuid> (application audit)"
    )
    team = serializers.SlugField(required=False, help_text="Governance audit of one team (its slug).")
    language = serializers.ChoiceField(choices=ReportLanguage.choices, default=ReportLanguage.ENGLISH)


class SignSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    role = serializers.CharField(max_length=200)
    statement = serializers.CharField(max_length=5000)


class VerifySerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    file = serializers.FileField()


VerificationSerializer = inline_serializer(
    "ReportVerification",
    {
        "status": serializers.ChoiceField(choices=["match", "superseded", "mismatch", "unknown"]),
        "ok": serializers.BooleanField(),
        "sha256": serializers.CharField(),
        "report": serializers.UUIDField(allow_null=True),
        "message": serializers.CharField(),
    },
)


@extend_schema(tags=["reports"])
class ReportViewSet(viewsets.GenericViewSet):
    """Audit reports. POST generates one (on a worker); ``sign/`` signs it; ``pdf/`` downloads it."""

    serializer_class = ReportSerializer
    lookup_field = "uuid"
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    queryset = Report.objects.none()

    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def list(self, request: Request) -> Response:
        reports = visible_reports(self.actor)
        page = self.paginate_queryset(reports)  # type: ignore[arg-type]
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return Response(self.get_serializer(reports, many=True).data)

    def retrieve(self, request: Request, uuid: str | None = None) -> Response:
        return Response(self.get_serializer(access_report(self.actor, uuid)).data)

    @extend_schema(request=ReportRequestSerializer, responses={201: ReportSerializer})
    def create(self, request: Request) -> Response:
        payload = ReportRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        scope: dict[str, Any] = {}
        if data["kind"] == ReportKind.GOVERNANCE:
            if data.get("team"):
                team = Team.objects.filter(slug=data["team"]).first()
                if team is None or not (self.actor.sees_everything or team in self.actor.teams()):
                    raise ValidationError({"team": ["Object does not exist."]})
                scope["team"] = team
        else:
            if not data.get("target"):
                raise ValidationError({"target": ["Name the model version or AI system to audit."]})
            try:
                target = access_target(self.actor, data["target"])
            except Http404:
                raise ValidationError({"target": ["Object does not exist."]}) from None
            expected = "modelversion" if data["kind"] == ReportKind.MODEL else "aisystem"
            if target._meta.model_name != expected:
                raise ValidationError({"target": [f"A {data['kind']} audit needs a {expected} target."]})
            scope["model_version" if expected == "modelversion" else "system"] = target
        report = do_request_report(data["kind"], actor=self.actor, language=data["language"], **scope)
        return Response(self.get_serializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SignSerializer, responses=ReportSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, uuid: str | None = None) -> Response:
        payload = SignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = do_sign_report(access_report(self.actor, uuid), actor=self.actor, **payload.validated_data)
        return Response(self.get_serializer(report).data)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, uuid: str | None = None) -> FileResponse:
        report = access_report(self.actor, uuid)
        if not report.pdf:
            raise Http404
        return FileResponse(report.pdf.open("rb"), as_attachment=True, filename=f"{report.uuid}.pdf")

    @extend_schema(request={"multipart/form-data": VerifySerializer}, responses=VerificationSerializer)
    @action(detail=False, methods=["post"])
    def verify(self, request: Request) -> Response:
        payload = VerifySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        if upload.size > MAX_VERIFY_BYTES:
            raise ValidationError({"file": ["The file is too large to be a report."]})
        result = verify_pdf(upload.read())
        visible = None
        if result.report is not None:
            try:
                visible = access_report(self.actor, result.report.uuid)
            except Http404:
                visible = None
        return Response(
            {
                "status": result.status,
                "ok": result.ok,
                "sha256": result.sha256,
                "report": str(visible.uuid) if visible is not None else None,
                "message": result.message if visible is not None or result.report is None else result.status,
            }
        )
