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


async def _scopes(api: Api, credentials: Credentials) -> frozenset[Scope]:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "an API key is required: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = credentials.credentials
    scopes = api.auth.cached(token)
    if scopes is None:
        scopes = await run_in_threadpool(api.auth.verify, token)
    if scopes is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the API key is not valid (unknown, revoked or mistyped)",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return scopes


def require(scope: Scope) -> Any:
    async def check(scopes: Annotated[frozenset[Scope], Depends(_scopes)]) -> None:
        if scope not in scopes:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this API key lacks the '{scope}' scope"
            )

    return Depends(check)


CanRead = require(Scope.READ)
CanWrite = require(Scope.WRITE)
