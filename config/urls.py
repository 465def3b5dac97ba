from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("registry.api.urls")),
    path("api/v1/", include("access.api.urls")),
    path("api/v1/", include("trail.api.urls")),
    path("api/v1/", include("lineage.api.urls")),
    path("api/v1/", include("audits.api.urls")),
    path("api/v1/", include("audits.reports.api_urls")),
    path("accounts/", include("access.urls")),
    path("audit-trail/", include("trail.urls")),
    path("lineage/", include("lineage.urls")),
    path("audits/", include("audits.urls")),
    path("reports/", include("audits.reports.urls")),
    path("", include("registry.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
