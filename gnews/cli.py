"""The ``gnews`` command line: run the system, manage plugins and accounts, diagnose."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gnews import __version__
from gnews.config import ConfigurationError, Settings, load_settings

if TYPE_CHECKING:
    from redis.asyncio import Redis


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _serving_settings(settings: Settings) -> Settings:
    """Settings with MongoDB and Redis URLs: configured, or those of a running ``gnews dev``."""
    if settings.mongodb_uri and settings.redis_url:
        return settings
    from gnews.dev.embedded import describe_other_devs, running_dev

    dev = running_dev(settings.data_dir)
    if dev is None:
        if elsewhere := describe_other_devs(settings.data_dir):
            _fail(elsewhere)
        _fail(
            "no MongoDB/Redis configured and `gnews dev` is not running for "
            f"{settings.data_dir}: set GNEWS_MONGODB_URI and GNEWS_REDIS_URL, "
            "or run `gnews dev` (it starts embedded servers, the API and the worker)"
        )
        raise AssertionError  # unreachable
    return settings.model_copy(
        update={
            "mongodb_uri": settings.mongodb_uri or dev.mongodb_uri,
            "redis_url": settings.redis_url or dev.redis_url,
        }
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gnews")
def main() -> None:
    """G-News and GAC backend.

    Settings come from GNEWS_* environment variables (see docs/configuration.md).
    Start everything locally with `gnews dev`, then open http://127.0.0.1:8000/schema.
    """
    from gnews.core.logs import configure_logging

    # Diagnostics go to stderr so that command output (e.g. `gnews plugins --json`) stays clean;
    # `serve` and `worker` reconfigure from the settings.
    configure_logging(json=False, level="WARNING")


@main.command()
def dev() -> None:
    """Run the whole system locally: embedded MongoDB and Redis, the API and the worker.

    Servers whose URL is configured (GNEWS_MONGODB_URI, GNEWS_REDIS_URL) are used instead of
    embedded ones. Data is kept under GNEWS_DATA_DIR (default ./var). Ctrl-C stops everything.
    """
    from gnews.dev.supervisor import run_dev

    sys.exit(run_dev(_settings()))


@main.command()
@click.option("--host", default=None, help="Interface to bind (default: GNEWS_HTTP_HOST).")
@click.option("--port", type=int, default=None, help="Port (default: GNEWS_HTTP_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Run the API only (production: one per replica, behind a load balancer)."""
    import uvicorn

    from gnews.app import create_app

    settings = _serving_settings(_settings())
    try:
        app = create_app(settings)
    except ConfigurationError as error:
        _fail(str(error))
    uvicorn.run(
        app,
        host=host or settings.http_host,
        port=port or settings.http_port,
        log_config=None,
        access_log=False,
        # Client addresses come from gnews.core.rate_limit.client_address, which trusts
        # X-Forwarded-For only from GNEWS_TRUSTED_PROXIES; uvicorn must not rewrite them.
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


@main.command()
@click.option(
    "--queue",
    "queues",
    type=click.Choice(["push", "feeds"]),
    multiple=True,
    help="Run only this queue's worker (repeatable; default: both). Push: fan-out, sending, "
    "reconciling; feeds: polling sources, retention.",
)
def worker(queues: tuple[str, ...]) -> None:
    """Run the arq workers only: push notifications, feed polling and scheduled jobs."""
    from gnews.core.logs import configure_logging
    from gnews.core.metrics import serve_worker_metrics
    from gnews.jobs import QUEUES
    from gnews.news.tagging import warm_up
    from workers.settings import run_workers

    settings = _serving_settings(_settings())
    configure_logging(json=settings.json_logs, level=settings.log_level)
    serve_worker_metrics(settings)
    # The Thai dictionaries are millions of objects that live as long as the process: built
    # first and frozen, the garbage collector no longer walks them in every full collection,
    # which otherwise cost the push fan-out about a tenth of its CPU (bench/fanout.py).
    warm_up()
    gc.freeze()
    run_workers(settings, [QUEUES[name] for name in dict.fromkeys(queues or QUEUES)])


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--fcm-port", type=int, default=8470, show_default=True, help="0: a free port.")
@click.option("--apns-port", type=int, default=8471, show_default=True, help="0: a free port.")
@click.option("--webpush-port", type=int, default=0, show_default=True, help="0: a free port.")
@click.option(
    "--credentials-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the dev service-account file and APNs key are [default: <data dir>/emulators].",
)
@click.option("--apns-tls", is_flag=True, help="APNs over TLS (self-signed, cert written there).")
@click.option("--rate-429", type=float, default=0.0, help="Share of requests answered 429.")
@click.option("--rate-503", type=float, default=0.0, help="Share of requests answered 503.")
@click.option("--retry-after", type=int, default=1, show_default=True, help="Seconds, on those.")
@click.option("--latency-ms", type=float, default=0.0, help="Added before every answer.")
@click.option("--unregistered-prefix", default=None, help="Tokens starting so are unregistered.")
def emulators(
    host: str,
    fcm_port: int,
    apns_port: int,
    webpush_port: int,
    credentials_dir: Path | None,
    apns_tls: bool,
    rate_429: float,
    rate_503: float,
    retry_after: int,
    latency_ms: float,
    unregistered_prefix: str | None,
) -> None:
    """Run the FCM, APNs, HMS and Web Push emulators until Ctrl-C (see docs/push.md).

    HMS is served on the FCM port under /hms; Web Push on its own port. Prints the GNEWS_*
    variables that point the push transports at them. Faults can also be changed while running:
    POST /_emulator/{fcm,apns,hms,webpush}/faults on the FCM port.
    """
    try:
        from gnews.dev.emulators.faults import Faults
        from gnews.dev.emulators.suite import run_emulators
    except ModuleNotFoundError as error:  # aiohttp: the `embedded` extra, not in production
        _fail(f"the emulators need the `embedded` extra (pip install 'gnews[embedded]'): {error}")

    try:
        faults = Faults(
            rate_429=rate_429,
            rate_503=rate_503,
            retry_after=retry_after,
            latency=latency_ms / 1000,
            unregistered_prefix=unregistered_prefix,
        )
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    try:
        run_emulators(
            credentials_dir or _settings().data_dir / "emulators",
            host=host,
            fcm_port=fcm_port,
            apns_port=apns_port,
            webpush_port=webpush_port,
            apns_tls=apns_tls,
            faults=faults,
        )
    except OSError as error:
        _fail(f"cannot start the emulators: {error}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(as_json: bool) -> None:
    """List loaded plugins, their versions and the hooks each implements."""
    from gnews.plugins import build_plugin_manager

    settings = _settings()
    manager = build_plugin_manager(settings.plugins, disabled=settings.disabled_plugins)
    infos = manager.describe()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "plugins": [asdict(info) for info in infos],
                    "failures": [asdict(failure) for failure in manager.failures],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if not infos:
        click.echo("no plugins loaded")
    for info in infos:
        click.echo(f"{info.name} {info.version or '-'} ({info.origin})")
        click.echo(f"    hooks: {', '.join(info.hooks) or '(none)'}")
    for failure in manager.failures:
        click.echo(f"FAILED {failure.plugin}: {failure.error}", err=True)


def _run_with_database(
    settings: Settings, action: Callable[..., Any], *, with_redis: bool = False
) -> Any:
    """Run ``action`` (a coroutine function) with beanie bound to MongoDB.

    MongoDB is the configured one, that of a running ``gnews dev``, or an embedded one started
    for this command on the same data dir. ``with_redis``: ``action`` gets ``redis``, a client
    of the configured or running Redis (whose response cache it may have to invalidate), or
    None when there is none (then no API serves a cache of this data either).
    """
    from gnews.core.persistence import init_documents, mongo_client, redis_client
    from gnews.dev.embedded import EmbeddedServerError, connected_services
    from gnews.documents import document_models

    async def run(uri: str, redis_url: str | None) -> Any:
        client = mongo_client(uri, timeout_ms=settings.db_timeout_ms)
        redis = redis_client(redis_url) if with_redis and redis_url else None
        try:
            retry = await init_documents(
                client, settings.mongodb_db, document_models(), build=settings.build_indexes
            )
            if retry is not None:
                retry.cancel()
                raise EmbeddedServerError(f"MongoDB at {uri} is not reachable")
            return await (action(redis=redis) if with_redis else action())
        finally:
            if redis is not None:
                await redis.aclose()
            await client.close()

    with connected_services(settings) as urls:
        assert urls.mongodb_uri
        return asyncio.run(run(urls.mongodb_uri, urls.redis_url))


@main.group()
def db() -> None:
    """The database: indexes."""


@db.command("indexes")
def db_indexes() -> None:
    """Build every index the documents declare (nx-27017: its variant) and fill in derived
    fields older documents lack; exits non-zero, naming the index, when one cannot be built."""
    from gnews.app import document_models
    from gnews.core.persistence import on_embedded_server
    from gnews.core.persistence.indexes import IndexBuildError, planned_indexes

    settings = _settings()

    async def report() -> None:
        planned = sum(
            len(planned_indexes(m, embedded=on_embedded_server())) for m in document_models()
        )
        variant = "nx-27017 variant" if on_embedded_server() else "as declared"
        click.echo(f"{planned} indexes built or present ({variant}); derived fields filled in")

    try:
        _run_with_database(settings.model_copy(update={"build_indexes": True}), report)
    except IndexBuildError as error:
        _fail(str(error))


@main.group()
def users() -> None:
    """Manage accounts (this is how the first admin is made)."""


@users.command("create")
@click.option("--email", required=True, help="E-mail address, used to sign in.")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "editor", "agency", "developer"]),
    help="admin: everything; editor: curates news and apps; agency: one agency's staff; "
    "developer: submits GAC listings.",
)
@click.option("--agency", default=None, help="Agency code, required for --role agency.")
@click.option("--name", default=None, help="Display name.")
def users_create(email: str, role: str, agency: str | None, name: str | None) -> None:
    """Create an account. The password is read from stdin, or prompted for on a terminal."""
    from gnews.accounts.models import Role
    from gnews.accounts.service import create_user
    from gnews.core.errors import ConflictError, FieldError
    from gnews.dev.embedded import EmbeddedServerError

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    settings = _settings()

    async def create() -> Any:
        return await create_user(email, password, Role(role), agency=agency, name=name)

    try:
        user = _run_with_database(settings, create)
    except (FieldError, ConflictError) as error:
        _fail(error.message)
    except EmbeddedServerError as error:
        _fail(str(error))
    click.echo(f"created {user.role.value} {user.email} (id {user.id})")


@main.group()
def sources() -> None:
    """News sources (agency feeds)."""


@sources.command("poll")
@click.argument("slugs", nargs=-1)
@click.option("--all", "poll_all", is_flag=True, help="Poll every enabled source.")
@click.option("--concurrency", default=8, show_default=True, help="Feeds fetched at once.")
def sources_poll(slugs: tuple[str, ...], poll_all: bool, concurrency: int) -> None:
    """Poll the named sources (by slug) now, or all with --all, showing progress.

    Sources declared by plugins are synced first, so a newly installed plugin's feeds are
    polled without starting the API. Exits 1 when a source fails.
    """
    from beanie import SortDirection

    from gnews.app import sync_plugin_data
    from gnews.dev.embedded import EmbeddedServerError
    from gnews.plugins import build_plugin_manager
    from gnews.sources.models import Source
    from workers.feeds.fetch import make_feed_client
    from workers.jobs.ingest import PollOutcome, poll

    if not slugs and not poll_all:
        _fail("name the sources to poll (their slugs), or use --all")
    settings = _settings()
    plugins = build_plugin_manager(
        settings.plugins, disabled=settings.disabled_plugins, trace=settings.trace_plugins
    )

    async def run(redis: Redis | None) -> bool:
        # The API's response cache is invalidated as the API itself would (new items, listings).
        await sync_plugin_data(plugins, redis=redis)
        query = {"enabled": True} if poll_all else {"slug": {"$in": list(slugs)}}
        chosen = await Source.find(query).sort([("slug", SortDirection.ASCENDING)]).to_list()
        for slug in sorted(set(slugs) - {source.slug for source in chosen}):
            click.echo(f"unknown source {slug!r}", err=True)
        ok = len(chosen) == len(set(slugs)) or poll_all
        limit = asyncio.Semaphore(max(1, concurrency))
        async with make_feed_client(
            allow_private_networks=settings.feed_allow_private_networks
        ) as client:

            async def poll_one(source: Source) -> PollOutcome:
                if not source.enabled:
                    return PollOutcome(source.slug, "skipped", error="disabled")
                async with limit:
                    return await poll(source, client, plugins, redis=redis)

            jobs = [poll_one(source) for source in chosen]
            for done, finished in enumerate(asyncio.as_completed(jobs), start=1):
                outcome = await finished
                click.echo(f"[{done}/{len(jobs)}] {_describe_poll(outcome)}")
                ok = ok and outcome.status != "error"
        return ok

    try:
        succeeded = _run_with_database(settings, run, with_redis=True)
    except EmbeddedServerError as error:
        _fail(str(error))
    sys.exit(0 if succeeded else 1)


def _describe_poll(outcome: Any) -> str:
    if outcome.status == "error":
        return f"{outcome.source}: error: {outcome.error}"
    if outcome.status != "ok":
        detail = f" ({outcome.error})" if outcome.error else ""
        return f"{outcome.source}: {outcome.status.replace('_', ' ')}{detail}"
    warnings = f"; warning: {'; '.join(outcome.warnings)}" if outcome.warnings else ""
    return (
        f"{outcome.source}: {outcome.new} new, {outcome.updated} updated, "
        f"{outcome.unchanged} unchanged, {outcome.dropped} dropped ({outcome.seconds:.2f}s)"
        + warnings
    )


@main.command()
@click.option("--worker", "check_worker", is_flag=True, help="Also check a worker consumes jobs.")
def check(check_worker: bool) -> None:
    """Connect to MongoDB and Redis and say what is wrong, if anything."""
    from gnews.core.persistence import mongo_client, ping_mongodb, ping_redis, redis_client
    from gnews.dev.embedded import describe_other_devs, running_dev

    settings = _settings()
    click.echo(f"environment: {settings.env}; data dir: {settings.data_dir.resolve()}")
    dev = running_dev(settings.data_dir)
    mongodb_uri = settings.mongodb_uri or (dev.mongodb_uri if dev else None)
    redis_url = settings.redis_url or (dev.redis_url if dev else None)
    origin = "configured" if settings.mongodb_uri else f"gnews dev (pid {dev.pid})" if dev else ""
    push_settings = _with_dev_push(settings, dev.push_env if dev else {})

    async def probe() -> list[str]:
        problems = []
        if mongodb_uri is None:
            click.echo(
                "MongoDB: not configured and `gnews dev` is not running "
                "(`gnews dev` starts an embedded one; or set GNEWS_MONGODB_URI)"
            )
        else:
            client = mongo_client(mongodb_uri, timeout_ms=settings.db_timeout_ms)
            error = await ping_mongodb(client)
            await client.close()
            click.echo(f"MongoDB: {mongodb_uri} ({origin}): {error or 'ok'}")
            if error:
                problems.append("MongoDB does not answer: is it running, is the URI right?")
        if redis_url is None:
            click.echo(
                "Redis: not configured and `gnews dev` is not running "
                "(`gnews dev` starts an embedded one; or set GNEWS_REDIS_URL)"
            )
        else:
            redis = redis_client(redis_url)
            error = await ping_redis(redis)
            click.echo(f"Redis: {redis_url}: {error or 'ok'}")
            if error:
                problems.append("Redis does not answer: is it running, is the URL right?")
            elif check_worker:
                problems += await _check_worker(redis)
            await redis.aclose()
        return problems + await _check_push(push_settings, mongodb_uri)

    if mongodb_uri is None and redis_url is None:
        click.echo(
            describe_other_devs(settings.data_dir)
            or "nothing to check: start `gnews dev`, or set GNEWS_MONGODB_URI and GNEWS_REDIS_URL"
        )
        sys.exit(1)
    problems = asyncio.run(probe())
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo("all checks passed")


def _with_dev_push(settings: Settings, push_env: dict[str, str]) -> Settings:
    """``settings`` with the push gateways of a running ``gnews dev`` (its emulators), for those
    not configured here: its worker sends through them."""
    names = {key.removeprefix("GNEWS_").lower(): value for key, value in push_env.items()}
    emulated = {
        name: value for name, value in names.items() if name not in settings.model_fields_set
    }
    return load_settings(**emulated) if emulated else settings


REQUIRED_PUSH_PLATFORMS = ("android", "ios")
"""Platforms whose gateway `gnews check` requires; another platform's (``huawei``, a plugin's)
only once it has active devices."""


async def _check_push(settings: Settings, mongodb_uri: str | None) -> list[str]:
    """Which platforms a worker with these settings can push to; a problem for each it cannot
    (see :data:`REQUIRED_PUSH_PLATFORMS`), with how many active devices of it would fail with
    ``no_transport``."""
    from gnews.core.persistence import mongo_client
    from gnews.devices.platforms import load_platforms
    from gnews.plugins import build_plugin_manager
    from workers.push import close_transports, load_transports

    manager = build_plugin_manager(settings.plugins, disabled=settings.disabled_plugins)
    transports = load_transports(manager, settings)
    await close_transports(transports)
    problems = []
    for platform in sorted(set(load_platforms(manager).names) | set(transports)):
        transport = transports.get(platform)
        if transport is not None:
            click.echo(f"push to {platform}: on ({type(transport).__name__})")
            continue
        devices = ""
        count: int | None = None
        if mongodb_uri is not None:
            client = mongo_client(mongodb_uri, timeout_ms=settings.db_timeout_ms)
            try:
                count = await client[settings.mongodb_db]["devices"].count_documents(
                    {"platform": platform, "active": True}
                )
                devices = f"; {count} active {platform} devices would fail with no_transport"
            except Exception:  # MongoDB's own problem is reported above
                pass
            finally:
                await client.close()
        click.echo(f"push to {platform}: off{devices}")
        if platform not in REQUIRED_PUSH_PLATFORMS and count == 0:
            continue  # an optional channel (HMS, a plugin's) nobody has registered for yet
        problems.append(
            f"push to {platform} is off{devices}: configure its gateway (docs/push.md; "
            "the warning above says what is missing)"
        )
    return problems


async def _check_worker(redis: Any) -> list[str]:
    from gnews.jobs import PING, QUEUES, enqueue

    problems = []
    for name, queue in QUEUES.items():
        job = await enqueue(redis, PING, queue=queue)
        assert job is not None  # None only for a job id already queued; a ping has no id
        try:
            await job.result(timeout=10)
        except TimeoutError:
            await job.abort()
            problems.append(
                f"no worker consumed a job of the {name} queue within 10s: is `gnews worker` "
                "(or `gnews dev`) running?"
            )
            continue
        click.echo(f"worker: ok ({name} queue: a ping job ran)")
    return problems


if __name__ == "__main__":
    main()
