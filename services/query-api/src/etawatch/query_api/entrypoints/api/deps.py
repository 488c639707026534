"""Dependencies of the routes, as ``Annotated`` aliases: the service, and who is asking."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param

from etawatch.query_api.bootstrap import QueryApi
from etawatch.query_api.domain.keys import Scope


async def get_api_dependency(request: Request) -> QueryApi:
    return get_api(request)


def get_api(request: Request) -> QueryApi:
    api: QueryApi = request.app.state.api
    return api


Api = Annotated[QueryApi, Depends(get_api_dependency)]

MISSING = "an API key is required: Authorization: Bearer <key>"
INVALID = "the API key is not valid (unknown, revoked or mistyped)"


class ScopedKey(SecurityBase):
    """The route's one dependency: a bearer API key that must carry ``scope``; hands over the
    service. A security scheme itself (OpenAPI documents it as ``HTTPBearer``) rather than a
    dependency on ``fastapi.security.HTTPBearer``: every level of dependencies costs each call
    its own resolution."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.model = HTTPBearerModel(description="An API key: `etw_<id>_<secret>`.")
        self.scheme_name = "HTTPBearer"

    async def __call__(self, request: Request) -> QueryApi:
        scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, MISSING, headers={"WWW-Authenticate": "Bearer"}
            )
        api = get_api(request)
        scopes = await api.auth.scopes(token)
        if scopes is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                INVALID,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if self.scope not in scopes:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this API key lacks the '{self.scope}' scope"
            )
        return api


ReadApi = Annotated[QueryApi, Depends(ScopedKey(Scope.READ))]
"""The service, for a caller whose key has the ``read`` scope."""
WriteApi = Annotated[QueryApi, Depends(ScopedKey(Scope.WRITE))]
"""The service, for a caller whose key has the ``write`` scope."""
