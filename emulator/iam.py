"""IAM SimulatePrincipalPolicy: what a user's, role's or group's own policies allow.

00's preflight asks IAM whether the learner may do what the workshop will do, before
anything is created. moto 5.2 has no policy simulation (its server answers an HTML 500),
so `install` adds SimulatePrincipalPolicy to moto's IAM, evaluated as IAM evaluates
identity-based policies: an explicit deny wins, then any allow, else the implicit deny.
Statements are matched with moto's `IAMPolicyStatement` (Action, NotAction, Resource);
conditions here, against the request's ``ContextEntries``: StringEquals, StringLike,
ArnEquals and ArnLike; a condition with any other operator, or on a key the request does
not give, does not hold (AWS's simulator reports such keys as missing context). Resource
policies, permissions boundaries and SCPs are not simulated. Gone when moto implements
SimulatePrincipalPolicy; `install` leaves moto's own alone if it has one. `decision` also
decides what a deployed agent may do with its execution role (`emulator.policies`).

Calling it takes ``iam:SimulatePrincipalPolicy`` on the principal, checked the same way
for a caller moto knows (an IAM user's access key, a role session); the local backend's
well-known keys are the account's root, which may do anything.
"""

import json
import operator
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from moto.core.exceptions import AccessDeniedError
from moto.core.responses import ActionResult
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.iam.exceptions import InvalidInput, NoSuchEntity, ValidationError
from moto.iam.models import Group, IAMBackend, ManagedPolicy, Role, User
from moto.iam.responses import IamResponse
from moto.sts.models import sts_backends

ACTION = "iam:SimulatePrincipalPolicy"
CONDITIONS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": operator.eq,
    "StringLike": fnmatchcase,
    "ArnEquals": operator.eq,
    "ArnLike": fnmatchcase,
}
Principal = User | Role | Group


def document(policy: str | ManagedPolicy) -> dict:
    if isinstance(policy, ManagedPolicy):
        policy = next(version.document for version in policy.versions if version.is_default)
    return json.loads(policy)


def _documents(backend: IAMBackend, principal: Principal) -> list[dict]:
    """The principal's inline and attached policies, and a user's groups' ones."""
    owners = [principal]
    if isinstance(principal, User):
        owners += backend.get_groups_for_user(principal.name)
    return [
        document(policy)
        for owner in owners
        for policy in [*owner.policies.values(), *owner.managed_policies.values()]
    ]


def principal(backend: IAMBackend, arn: str) -> Principal:
    """The user, role or group an IAM ARN names (with its path): NoSuchEntity if none."""
    kind, _, name = arn.split(":", 5)[-1].partition("/")
    if not arn.startswith("arn:aws:iam::") or kind not in ("user", "role", "group"):
        raise InvalidInput(f"Invalid ARN: {arn} names no IAM user, role or group.")
    found = {
        "user": lambda name: backend.users.get(name),
        "role": lambda name: next((r for r in backend.get_roles() if r.name == name), None),
        "group": lambda name: backend.groups.get(name),
    }[kind](name.rsplit("/", 1)[-1])
    if found is None or found.arn != arn:
        raise NoSuchEntity(f"The {kind} with ARN {arn} cannot be found.")
    return found


def _holds(conditions: dict, context: dict[str, str]) -> bool:
    for name, keys in conditions.items():
        test = CONDITIONS.get(name)
        for key, expected in keys.items():
            value = context.get(key.lower())
            wanted = expected if isinstance(expected, list) else [expected]
            if test is None or value is None or not any(test(value, w) for w in wanted):
                return False
    return True


def _applies(statement: dict, action: str, resource: str, context: dict[str, str]) -> bool:
    """Does ``statement`` speak to this request? Conditions first: moto reads a condition
    that fails as a deny, where IAM reads it as a statement that does not apply."""
    if not _holds(statement.get("Condition", {}), context):
        return False
    matched = {key: value for key, value in statement.items() if key != "Condition"}
    result = IAMPolicyStatement(matched).is_action_permitted(action, resource)
    return result is not PermissionResult.NEUTRAL


def decision(documents: list[dict], action: str, resource: str, context: dict[str, str]) -> str:
    """IAM's rule for identity-based policies, in SimulatePrincipalPolicy's words."""
    effects = {
        statement["Effect"]
        for document in documents
        for statement in (
            document["Statement"]
            if isinstance(document["Statement"], list)
            else [document["Statement"]]
        )
        if _applies(statement, action, resource, context)
    }
    if "Deny" in effects:
        return "explicitDeny"
    return "allowed" if "Allow" in effects else "implicitDeny"


def _caller(response: IamResponse) -> Principal | None:
    """The IAM user or role whose keys signed the request; None for the root's."""
    key = response.get_access_key()
    user = response.backend.get_user_from_access_key_id(key)
    if user is not None:
        return user
    session = sts_backends[response.current_account][response.partition]
    assumed = session.get_assumed_role_from_access_key(key)
    return principal(response.backend, assumed.role_arn) if assumed else None


def _required(response: IamResponse, name: str) -> Any:
    value = response._get_param(name)
    if not value:
        raise ValidationError(
            f"1 validation error detected: Value null at '{name[0].lower()}{name[1:]}' failed "
            "to satisfy constraint: Member must not be null"
        )
    return value


def _simulate_principal_policy(self: IamResponse) -> ActionResult:
    source, actions = _required(self, "PolicySourceArn"), _required(self, "ActionNames")
    target = principal(self.backend, source)
    caller = _caller(self)
    if caller and decision(_documents(self.backend, caller), ACTION, source, {}) != "allowed":
        raise AccessDeniedError(
            caller.arn,
            f"{ACTION} on resource: {source} because no identity-based policy allows "
            f"the {ACTION} action",
        )
    context = {
        entry["ContextKeyName"].lower(): entry["ContextKeyValues"][0]
        for entry in self._get_param("ContextEntries") or []
        if entry.get("ContextKeyName") and entry.get("ContextKeyValues")
    }
    documents = _documents(self.backend, target)
    results = [
        {
            "EvalActionName": action,
            "EvalResourceName": resource,
            "EvalDecision": decision(documents, action, resource, context),
            "MatchedStatements": [],
            "MissingContextValues": [],
        }
        for action in actions
        for resource in self._get_param("ResourceArns") or ["*"]
    ]
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


def install() -> None:
    """Add SimulatePrincipalPolicy to moto's IAM unless moto serves it; a second call
    changes nothing."""
    if not hasattr(IamResponse, "simulate_principal_policy"):
        IamResponse.simulate_principal_policy = _simulate_principal_policy
