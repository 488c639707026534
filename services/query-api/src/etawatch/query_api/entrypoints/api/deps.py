"""Dependencies of the routes, as ``Annotated`` aliases: the service, and who is asking."""

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from etawatch.query_api.bootstrap import QueryApi
from etawatch.query_api.domain.keys import Scope

bearer = HTTPBearer(auto_error=False, description="An API key: `etw_<id>_<secret>`.")


async def get_api_dependency(request: Request) -> QueryApi:
    return get_api(request)


def get_api(request: Request) -> QueryApi:
    api: QueryApi = request.app.state.api
    return api


Api = Annotated[QueryApi, Depends(get_api_dependency)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def _scopes(request: Request, credentials: Credentials) -> frozenset[Scope]:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "an API key is required: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    auth = get_api(request).auth
    token = credentials.credentials
    scopes = auth.cached(token)
    if scopes is None:
        scopes = await run_in_threadpool(auth.verify, token)
    if scopes is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the API key is not valid (unknown, revoked or mistyped)",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return scopes


def require(scope: Scope) -> Any:
    """The route's one dependency: checks the key (through the bearer scheme, which documents
    it) and hands over the service. Kept flat because it runs on every call."""

    async def check(request: Request, credentials: Credentials) -> QueryApi:
        if scope not in await _scopes(request, credentials):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this API key lacks the '{scope}' scope"
            )
        return get_api(request)

    return check


ReadApi = Annotated[QueryApi, Depends(require(Scope.READ))]
"""The service, for a caller whose key has the ``read`` scope."""
WriteApi = Annotated[QueryApi, Depends(require(Scope.WRITE))]
"""The service, for a caller whose key has the ``write`` scope."""
