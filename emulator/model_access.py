"""What an account may call in Bedrock: inference profiles, model availability, the
Anthropic use-case form (Bedrock's control plane, read-only, for 00's preflight).

moto 5.2's ``bedrock`` backend has none of GetInferenceProfile, ListInferenceProfiles,
GetFoundationModelAvailability or GetUseCaseForModelAccess. The local account behaves as
a ready AWS account does for the workshop's model, Claude Sonnet 4.5: its use-case form
is on file and the model is subscribed, and a cross-region profile answers only in its
source regions. So a ``us.`` profile asked for in ``eu-west-1`` is not found, as on AWS,
and the model is unavailable in a region no profile of it serves. The local backend knows
no other model: any other id is not found.
"""

import json
from datetime import UTC, datetime

from moto.core.responses import ActionResult

from emulator.exceptions import ResourceNotFoundException
from emulator.service import ModelResponse, wsgi_app

PATHS = ("/inference-profiles", "/foundation-model-availability/", "/use-case-for-model-access")
FOUNDATION_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
MODEL_NAME = "Claude Sonnet 4.5"
LAUNCHED = datetime(2025, 9, 29, tzinfo=UTC)
_US = ("us-east-1", "us-east-2", "us-west-1", "us-west-2")
_EU = (
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
)
_JP, _AU = ("ap-northeast-1", "ap-northeast-3"), ("ap-southeast-2", "ap-southeast-4")
_APAC = ("ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-3", "ap-northeast-2")
# Claude Sonnet 4.5's cross-region profiles and their source regions: Bedrock's user
# guide ("Supported cross-Region inference profiles"), AWS's blogs on Canada (the US and
# global profiles from ca-central-1) and Cape Town (global). Where a request is routed to
# is not modelled: each profile lists its source regions as its models' regions.
PROFILES = {
    "us": (*_US, "ca-central-1"),
    "eu": _EU,
    "jp": _JP,
    "au": _AU,
    "global": (*_US, "ca-central-1", "sa-east-1", *_EU, *_JP, *_AU, *_APAC, "af-south-1"),
}
# What the local account's Anthropic use-case form says (AWS keeps it per account).
USE_CASE = {
    "companyName": "AgentCore Identity workshop (local backend)",
    "companyWebsite": "http://127.0.0.1",
    "intendedUsers": "0",
    "industryOption": "Education",
    "useCases": "Learning AgentCore Identity offline",
}


def profile(profile_id: str, region: str, account: str) -> dict:
    """GetInferenceProfile's answer for ``profile_id`` in ``region``."""
    geography, _, model = profile_id.partition(".")
    if model != FOUNDATION_MODEL or region not in PROFILES.get(geography, ()):
        raise ResourceNotFoundException(f"The inference profile {profile_id} does not exist.")
    regions = PROFILES[geography]
    return {
        "inferenceProfileName": f"{geography.upper()} Anthropic {MODEL_NAME}",
        "description": f"Routes requests to Anthropic {MODEL_NAME} in {len(regions)} regions.",
        "createdAt": LAUNCHED,
        "updatedAt": LAUNCHED,
        "inferenceProfileArn": f"arn:aws:bedrock:{region}:{account}:inference-profile/{profile_id}",
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model}"} for r in regions],
        "inferenceProfileId": profile_id,
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }


def availability(model: str, region: str) -> dict:
    """GetFoundationModelAvailability's answer: subscribed, and offered where a profile is."""
    if model != FOUNDATION_MODEL:
        raise ResourceNotFoundException(f"The model {model} does not exist.")
    offered = any(region in regions for regions in PROFILES.values())
    return {
        "modelId": model,
        "agreementAvailability": {"status": "AVAILABLE"},
        "authorizationStatus": "AUTHORIZED",
        "entitlementAvailability": "AVAILABLE",
        "regionAvailability": "AVAILABLE" if offered else "NOT_AVAILABLE",
    }


def _profile_id(summary: dict) -> str:
    return summary["inferenceProfileId"]


class ModelAccessResponse(ModelResponse):
    SERVICE = "bedrock"

    def get_inference_profile(self) -> ActionResult:
        """By id, or by ARN: only this region's and account's (another's is not found)."""
        own = f"arn:aws:bedrock:{self.region}:{self.current_account}:inference-profile/"
        identifier = self._get_param("inferenceProfileIdentifier").removeprefix(own)
        return ActionResult(profile(identifier, self.region, self.current_account))

    def list_inference_profiles(self) -> ActionResult:
        """The system-defined profiles that answer in this region (no application ones)."""
        profiles = [
            profile(f"{geography}.{FOUNDATION_MODEL}", self.region, self.current_account)
            for geography, regions in PROFILES.items()
            if self.region in regions and self._get_param("typeEquals") != "APPLICATION"
        ]
        return self.paginated(profiles, "inferenceProfileSummaries", _profile_id)

    def get_foundation_model_availability(self) -> ActionResult:
        return ActionResult(availability(self._get_param("modelId"), self.region))

    def get_use_case_for_model_access(self) -> ActionResult:
        return ActionResult({"formData": json.dumps(USE_CASE).encode()})


app = wsgi_app(ModelAccessResponse)
