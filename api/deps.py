"""Dependencies as `Annotated` aliases; clients are built once in the app's lifespan."""

from __future__ import annotations

from typing import Annotated

from aiokafka import AIOKafkaProducer
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from redis.asyncio import Redis

from api.auth import authenticate, bearer, require_role
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


SettingsDep = Annotated[Settings, Depends(_settings)]
ProducerDep = Annotated[AIOKafkaProducer, Depends(_producer)]
RedisDep = Annotated[Redis, Depends(_redis)]
PublisherDep = Annotated[Publisher, Depends(_publisher)]

# Any valid token: the operational picture is shared by every role.
ReaderDep = Annotated[Principal, Depends(_principal)]
# Writers per audience; the route then checks the scope of what is written.
CommandPostDep = Annotated[Principal, _with_role("command_post", "coordinator", "admin")]
WarehouseStaffDep = Annotated[Principal, _with_role("warehouse_staff", "admin")]
CoordinatorDep = Annotated[Principal, _with_role("coordinator", "admin")]
