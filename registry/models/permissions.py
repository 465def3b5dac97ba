"""Direct foreign-key object-permission tables for django-guardian.

Guardian's generic tables key objects by a text column; these give each asset its own indexed
table with a real foreign key, which keeps permission-filtered list pages fast (guardian's own
recommendation for large tables).
"""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from registry.models.datasets import Dataset
from registry.models.generators import SyntheticGenerator
from registry.models.mlmodels import Model
from registry.models.prompts import Prompt
from registry.models.systems import AISystem


class AISystemUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(AISystem, on_delete=models.CASCADE)


class AISystemGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(AISystem, on_delete=models.CASCADE)


class DatasetUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Dataset, on_delete=models.CASCADE)


class DatasetGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Dataset, on_delete=models.CASCADE)


class SyntheticGeneratorUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(SyntheticGenerator, on_delete=models.CASCADE)


class SyntheticGeneratorGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(SyntheticGenerator, on_delete=models.CASCADE)


class ModelUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Model, on_delete=models.CASCADE)


class ModelGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Model, on_delete=models.CASCADE)


class PromptUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Prompt, on_delete=models.CASCADE)


class PromptGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Prompt, on_delete=models.CASCADE)
