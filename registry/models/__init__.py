from registry.models.base import Asset, AssetVersion, ImmutableVersionError, Tag
from registry.models.datasets import Dataset, DatasetVersion
from registry.models.generators import GeneratorTrainingData, GeneratorVersion, SyntheticGenerator
from registry.models.mlflow import (
    MlflowModelLink,
    MlflowModelVersionLink,
    MlflowPromptLink,
    MlflowPromptVersionLink,
    MlflowServer,
)
from registry.models.mlmodels import Model, ModelTrainingData, ModelVersion, StageChange
from registry.models.permissions import (
    AISystemGroupObjectPermission,
    AISystemUserObjectPermission,
    DatasetGroupObjectPermission,
    DatasetUserObjectPermission,
    ModelGroupObjectPermission,
    ModelUserObjectPermission,
    PromptGroupObjectPermission,
    PromptUserObjectPermission,
    SyntheticGeneratorGroupObjectPermission,
    SyntheticGeneratorUserObjectPermission,
)
from registry.models.prompts import Prompt, PromptAlias, PromptVersion
from registry.models.systems import AISystem, SystemComponent

__all__ = [
    "AISystem",
    "AISystemGroupObjectPermission",
    "AISystemUserObjectPermission",
    "Asset",
    "AssetVersion",
    "Dataset",
    "DatasetGroupObjectPermission",
    "DatasetUserObjectPermission",
    "DatasetVersion",
    "GeneratorTrainingData",
    "GeneratorVersion",
    "ImmutableVersionError",
    "MlflowModelLink",
    "MlflowModelVersionLink",
    "MlflowPromptLink",
    "MlflowPromptVersionLink",
    "MlflowServer",
    "Model",
    "ModelGroupObjectPermission",
    "ModelTrainingData",
    "ModelUserObjectPermission",
    "ModelVersion",
    "Prompt",
    "PromptAlias",
    "PromptGroupObjectPermission",
    "PromptUserObjectPermission",
    "PromptVersion",
    "StageChange",
    "SyntheticGenerator",
    "SyntheticGeneratorGroupObjectPermission",
    "SyntheticGeneratorUserObjectPermission",
    "SystemComponent",
    "Tag",
]
