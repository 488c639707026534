"""Dependencies of the routes, as ``Annotated`` aliases: the service, and who is asking."""

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from etawatch.query_api.bootstrap import QueryApi
from etawatch.query_api.domain.keys import Scope

bearer = HTTPBearer(auto_error=False, description="An API key: `etw_<id>_<secret>`.")


def get_api(request: Request) -> QueryApi:
    api: QueryApi = request.app.state.api
    return api


Api = Annotated[QueryApi, Depends(get_api)]
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
    """One flat dependency per route (the bearer scheme and this check): it runs on every call."""

    async def check(request: Request, credentials: Credentials) -> None:
        if scope not in await _scopes(request, credentials):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this API key lacks the '{scope}' scope"
            )

    return Depends(check)


CanRead = require(Scope.READ)
CanWrite = require(Scope.WRITE)
