"""Organization (organization 2021-03-31) in the sandbox: the scenario's organization and its members.

DescribeOrganization answers the caller's view (the scenario's account is the host and manager; a
member's temporary key sees itself as a member); DescribeOrganizationMembers lists members a page at a
time (``Limit`` 1-50, ``Offset`` a multiple of ``Limit``; ``SearchKey`` matches name or uin) and only
for the manager; DescribeOrganizationMemberAuthIdentities lists a member's roles as identities. Error
codes from the SDK's ``errorcodes.py``: no organization ``ResourceNotFound.OrganizationNotExist``, a
member asking for the member list ``InvalidParameter.OrganizationMemberNotManager``, an unknown member
``ResourceNotFound.OrganizationMemberNotExist``, a bad page ``InvalidParameter``.
"""

from __future__ import annotations

from typing import Any

from sandbox.api3 import Action, ApiFailure, Context, Product
from sandbox.catalogue import parse_instant
from sandbox.scenario_spec import MemberSpec, OrganizationSpec

VERSION = "2021-03-31"
MAX_LIMIT = 50
_FINANCIAL = [{"Id": 1, "Name": "viewBill"}, {"Id": 2, "Name": "viewBalance"}]
_STAMP = "%Y-%m-%d %H:%M:%S"


def _organization(ctx: Context) -> OrganizationSpec:
    organization = ctx.scenario.spec.organization
    if organization is None:
        raise ApiFailure("ResourceNotFound.OrganizationNotExist", "The account does not belong to an organization.")
    return organization


def _host(ctx: Context) -> str:
    return str(ctx.scenario.spec.account.uin)


def _is_manager(ctx: Context) -> bool:
    return ctx.caller.account in (None, _host(ctx))


def _joined(ctx: Context, member: MemberSpec) -> str:
    return parse_instant(member.joined, ctx.scenario.tz).astimezone(ctx.scenario.tz).strftime(_STAMP)


def _page(params: dict[str, Any]) -> tuple[int, int]:
    offset, limit = params.get("Offset"), params.get("Limit")
    if offset is None or limit is None:
        missing = "Offset" if offset is None else "Limit"
        raise ApiFailure("MissingParameter", f"The request is missing a required parameter `{missing}`.")
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiFailure("InvalidParameter", f"Limit must be 1 to {MAX_LIMIT}, not {limit}.")
    if offset < 0 or offset % limit:
        raise ApiFailure(
            "InvalidParameter", f"Offset must be a non-negative multiple of Limit ({limit}), not {offset}."
        )
    return offset, limit


def describe_organization(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    organization = _organization(ctx)
    host = _host(ctx)
    manager = _is_manager(ctx)
    member = next((m for m in organization.members if str(m.uin) == ctx.caller.account), None)
    return {
        "OrgId": organization.id,
        "HostUin": int(host),
        "NickName": f"host-{host}",
        "OrgType": 1,
        "IsManager": manager,
        "OrgPolicyType": "Financial",
        "OrgPolicyName": "财务管理",
        "OrgPermission": _FINANCIAL,
        "RootNodeId": organization.id * 10,
        "CreateTime": "2026-01-01 00:00:00",
        "JoinTime": _joined(ctx, member) if member is not None else "",
        "IsAllowQuit": "Denied",
        "PayUin": host,
        "PayName": f"host-{host}",
        "IsAssignManager": False,
        "IsAuthManager": manager,
    }


def _member_item(ctx: Context, member: MemberSpec) -> dict[str, Any]:
    joined = _joined(ctx, member)
    host = _host(ctx)
    return {
        "MemberUin": member.uin,
        "Name": member.name,
        "MemberType": member.type,
        "OrgPolicyType": "Financial",
        "OrgPolicyName": "财务管理",
        "OrgPermission": _FINANCIAL,
        "NodeId": _organization(ctx).id * 10,
        "NodeName": "Root",
        "Remark": "",
        "CreateTime": joined,
        "UpdateTime": joined,
        "IsAllowQuit": "Denied",
        "PayUin": host,
        "PayName": f"host-{host}",
        "OrgIdentity": [{"IdentityId": 1, "IdentityAliasName": "admin"}],
        "BindStatus": "Success",
        "PermissionStatus": "Confirmed",
        "Tags": [],
        "NickName": member.name,
    }


def describe_organization_members(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    organization = _organization(ctx)
    offset, limit = _page(params)
    if not _is_manager(ctx):
        raise ApiFailure(
            "InvalidParameter.OrganizationMemberNotManager", "Only the organization's manager may list its members."
        )
    search = (params.get("SearchKey") or "").strip().lower()
    members = [m for m in organization.members if not search or search in m.name.lower() or search in str(m.uin)]
    return {"Items": [_member_item(ctx, m) for m in members[offset : offset + limit]], "Total": len(members)}


def describe_organization_member_auth_identities(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    organization = _organization(ctx)
    offset, limit = _page(params)
    uin = params.get("MemberUin")
    if uin is None:
        raise ApiFailure("MissingParameter", "The request is missing a required parameter `MemberUin`.")
    member = next((m for m in organization.members if m.uin == uin), None)
    if member is None:
        raise ApiFailure("ResourceNotFound.OrganizationMemberNotExist", f"The member {uin} does not exist.")
    joined = _joined(ctx, member)
    items = [
        {
            "IdentityId": index,
            "IdentityRoleName": role,
            "IdentityRoleAliasName": role,
            "Description": f"role {role} of member {member.name}",
            "CreateTime": joined,
            "UpdateTime": joined,
            "IdentityType": 1 if role == "OrganizationAccessControlRole" else 2,
            "Status": 1,
            "MemberUin": member.uin,
            "MemberName": member.name,
        }
        for index, role in enumerate(member.roles, start=1)
    ]
    return {"Items": items[offset : offset + limit], "Total": len(items)}


_PAGE = {"Offset": int, "Limit": int}
PRODUCT = Product(
    name="organization",
    version=VERSION,
    actions={
        "DescribeOrganization": Action(describe_organization, {"Lang": str, "Product": str}),
        "DescribeOrganizationMembers": Action(
            describe_organization_members,
            {
                **_PAGE,
                "Lang": str,
                "SearchKey": str,
                "AuthName": str,
                "Product": str,
                "Tags": [{"TagKey": str, "TagValue": str}],
                "NodeId": int,
                "NodeName": str,
            },
        ),
        "DescribeOrganizationMemberAuthIdentities": Action(
            describe_organization_member_auth_identities, {**_PAGE, "MemberUin": int, "IdentityId": int}
        ),
    },
)
