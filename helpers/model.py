"""The model the agent calls, for the learner's region.

The quickstart's model, Claude Sonnet 4.5, is called through a cross-region inference
profile: the foundation model's id with a geography in front (``us.``, ``eu.``, ``jp.``,
``au.``) or ``global.``. A profile answers only in its own source regions, so the
quickstart's fixed ``us.`` id fails everywhere outside the US: the workshop takes the
geography of the region, and the global profile where no geography serves it.
"""

FOUNDATION_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"  # Claude Sonnet 4.5
GLOBAL = "global"
# The source regions of Claude Sonnet 4.5's geographic profiles: Bedrock's user guide,
# "Supported cross-Region inference profiles", and AWS's blog on Canada (ca-central-1 uses
# the US profile). There is no ``apac.`` profile of Sonnet 4.5 (refused as an invalid
# model identifier): Asia Pacific regions outside Japan and Australia use the global one.
GEOGRAPHIES = {
    "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1"),
    "eu": (
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
    ),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
}
# Every prefix Bedrock gives a cross-region profile of any model.
PREFIXES = ("us", "us-gov", "eu", "apac", "jp", "au", "ca", GLOBAL)


def model_id(region: str) -> str:
    """Claude Sonnet 4.5's inference profile for ``region``: its geography's, else global."""
    geography = next((g for g, regions in GEOGRAPHIES.items() if region in regions), GLOBAL)
    return f"{geography}.{FOUNDATION_MODEL}"


def geography(model: str) -> str | None:
    """The profile prefix of a model id (``"eu"``), None for a foundation model's own id."""
    prefix, _, rest = model.partition(".")
    return prefix if prefix in PREFIXES and "." in rest else None


def foundation_model(model: str) -> str:
    """The foundation model a model id calls: the id without its profile's prefix."""
    return model.partition(".")[2] if geography(model) else model
