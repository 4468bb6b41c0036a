"""Plugin hook-call benchmark: the cost of G-News's per-plugin guard over a bare pluggy call.

Calls ``gnews_process_item`` (run once per ingested feed entry) with K plugins registered, on
pluggy's own manager and on G-News's (each implementation guarded: failures recorded, not
raised), plain and through ``answers`` (which also says which plugin gave each answer). Prints
microseconds per call and the ratios to the bare pluggy call.

    .venv/bin/python bench/plugin_hooks.py [--plugins 5] [--calls 200000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import pluggy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gnews import hookspecs
from gnews.hookspecs import hookimpl
from gnews.plugins import PluginManager


class Keeper:
    """A plugin that looks at the item and keeps it (returns None), as most do."""

    @hookimpl
    def gnews_process_item(self, item: Any, source: Any) -> bool | None:
        """Drop nothing."""
        return None if item.title else False


class Tagger:
    """A plugin that answers (a province list), so ``answers`` has something to attribute."""

    @hookimpl
    def gnews_item_provinces(self, item: Any) -> list[str]:
        """Always Nakhon Sawan."""
        return ["TH-60"]


class Item:
    """What the plugins read."""

    title = "ข่าวจังหวัดนครสวรรค์"
    key = "https://agency.go.th/news/1"


class Source:
    """What the plugins read."""

    slug = "press"


def per_call_us(call: Any, calls: int) -> float:
    """Microseconds per call of ``call()``, best of three runs."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, time.perf_counter() - started)
    return best / calls * 1e6


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()

    bare = pluggy.PluginManager(hookspecs.PROJECT)
    bare.add_hookspecs(hookspecs)
    guarded = PluginManager()
    for number in range(args.plugins):
        for manager in (bare, guarded):
            manager.register(Keeper(), name=f"keeper-{number}")
            manager.register(Tagger(), name=f"tagger-{number}")
    item, source = Item(), Source()

    process_bare = per_call_us(
        lambda: bare.hook.gnews_process_item(item=item, source=source), args.calls
    )
    process_guarded = per_call_us(
        lambda: guarded.hook.gnews_process_item(item=item, source=source), args.calls
    )
    tag_bare = per_call_us(lambda: bare.hook.gnews_item_provinces(item=item), args.calls)
    tag_guarded = per_call_us(lambda: guarded.hook.gnews_item_provinces(item=item), args.calls)
    tag_answers = per_call_us(
        lambda: guarded.answers(guarded.hook.gnews_item_provinces, item=item), args.calls
    )
    assert guarded.failures == []

    print(f"{args.plugins} plugins per hook, {args.calls} calls, best of 3")
    print("gnews_process_item (every plugin returns None):")
    print(f"  pluggy, bare          {process_bare:7.2f} us/call")
    print(f"  G-News, guarded       {process_guarded:7.2f} us/call")
    print(f"  guard overhead        {process_guarded / process_bare:7.2f}x")
    print("gnews_item_provinces (every plugin answers):")
    print(f"  pluggy, bare          {tag_bare:7.2f} us/call")
    print(f"  G-News, guarded       {tag_guarded:7.2f} us/call")
    print(f"  G-News, answers()     {tag_answers:7.2f} us/call")
    print(f"  guard overhead        {tag_guarded / tag_bare:7.2f}x")
    print(f"  answers() overhead    {tag_answers / tag_bare:7.2f}x")


if __name__ == "__main__":
    main()
