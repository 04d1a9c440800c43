"""AgentCore Runtime: the control plane and InvokeAgentRuntime under ``/runtimes/``.

moto 5.2 has a ``bedrockagentcorecontrol`` backend of its own that answers the runtime
operations, versions and endpoints (records only: nothing runs, no authorizer, no workload
identity). Our router sends every ``/runtimes/`` request signed for ``bedrock-agentcore``
(and every unsigned invocation) here before moto sees it, so all of that is shadowed:
runtimes, versions and endpoints (DEFAULT and named ones, each with an agent of its own)
are ours. Its gateways, memories and tags (other paths) still reach moto.

Elsewhere: moto routes a ``bedrock-agentcore`` request by the botocore models, which hold
the Identity operations under ``/identities/`` and InvokeAgentRuntime, so without our
routes they would reach moto's ``bedrockagentcore`` or ``bedrockagentcorecontrol`` app
and fail there (it implements none of them): `emulator.identity` serves ``/identities/``
before moto sees it. ``/model/<id>/converse[-stream]`` signed for ``bedrock`` is
`emulator.bedrock`'s; moto's ``bedrockruntime`` keeps its InvokeModel. See
``emulator/README.md``.

The routes are in `routes`; this package imports nothing itself, because the agents'
fork server imports `launch` (and with it this package) and needs none of the emulator.
"""
