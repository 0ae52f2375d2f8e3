"""Dependencies as `Annotated` aliases; clients are built once in the app's lifespan."""

from __future__ import annotations

from typing import Annotated

from aiokafka import AIOKafkaProducer
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from redis.asyncio import Redis

from api.auth import authenticate, bearer, count_write, require_role
from api.publish import Publisher
from siaga.settings import Settings
from siaga.tokens import Principal, Role


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _producer(request: Request) -> AIOKafkaProducer:
    producer: AIOKafkaProducer = request.app.state.producer
    return producer


def _redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


def _publisher(request: Request) -> Publisher:
    state = request.app.state
    return Publisher(state.producer, state.redis, state.settings)


async def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    return await authenticate(request, credentials)


def _with_role(*roles: Role) -> object:
    async def dependency(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        require_role(principal, roles)
        return principal

    return Depends(dependency)


def _writer(*roles: Role) -> object:
    """A write: the role must fit, and the token's writes per minute are counted."""

    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(_principal)]
    ) -> Principal:
        require_role(principal, roles)
        await count_write(request, principal)
        return principal

    return Depends(dependency)


READERS: tuple[Role, ...] = ("command_post", "warehouse_staff", "coordinator", "admin")


SettingsDep = Annotated[Settings, Depends(_settings)]
ProducerDep = Annotated[AIOKafkaProducer, Depends(_producer)]
RedisDep = Annotated[Redis, Depends(_redis)]
PublisherDep = Annotated[Publisher, Depends(_publisher)]

# Any valid credential, whatever its role (the token's own description: /me).
AnyPrincipalDep = Annotated[Principal, Depends(_principal)]
# The operational picture is shared by every role of people; an alert feed only posts.
ReaderDep = Annotated[Principal, _with_role(*READERS)]
# Writers per audience; the route then checks the scope of what is written.
CommandPostDep = Annotated[Principal, _writer("command_post", "coordinator", "admin")]
WarehouseStaffDep = Annotated[Principal, _writer("warehouse_staff", "admin")]
CoordinatorDep = Annotated[Principal, _writer("coordinator", "admin")]
AlertFeedDep = Annotated[Principal, _writer("alert_feed", "admin")]
# A delivery is confirmed where it arrives: a shelter's posko, or the team running a kitchen.
ReceiverDep = Annotated[Principal, _writer("command_post", "team", "coordinator", "admin")]
# A TAGANA team's own phone, or whoever coordinates it (the route checks which team).
TeamReaderDep = Annotated[Principal, _with_role("team", "coordinator", "admin")]
TeamWriterDep = Annotated[Principal, _writer("team", "coordinator", "admin")]
