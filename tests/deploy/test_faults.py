"""deploy/serve.sh with two replicas: one killed while visitors use both. The other replica's visitors
see no error, new visitors never meet the dead one, and serve.sh restarts it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

from bench.wsclient import Session, toggle_axes

from .proxy import Served, needs_haproxy, run_async

pytestmark = [needs_haproxy]

#: How long the proxy may take to stop sending new visitors to a replica that died (it checks
#: every second and gives up on a replica after two failures).
DOWN_WITHIN_SECONDS = 5
#: How long serve.sh may take to start a dead replica again and the proxy to take it back.
REJOIN_WITHIN_SECONDS = 120


def replica_of(tab: Session) -> str:
    return tab.cookies["SRV"]


def test_killing_a_replica_under_load_spares_the_other_visitors_and_it_rejoins():
    served = Served(2)
    try:
        run_async(_kill_under_load(served))
    finally:
        served.stop()


async def _kill_under_load(served: Served) -> None:
    tabs = [await Session.open(served.url) for _ in range(4)]  # one at a time: the proxy alternates
    by_replica = {}
    for tab in tabs:
        by_replica.setdefault(replica_of(tab), []).append(tab)
    assert sorted(by_replica) == ["r1", "r2"] and all(len(t) == 2 for t in by_replica.values()), by_replica
    victim, survivor = "r1", "r2"
    errors: dict[str, list[str]] = {"r1": [], "r2": []}
    done = {"r1": 0, "r2": 0}
    stop = asyncio.Event()

    async def visitor(tab: Session, offset: int) -> None:
        home = replica_of(tab)  # the proxy may move the tab's cookie to another replica after a kill
        i = offset
        while not stop.is_set():
            try:
                problems = (await toggle_axes(tab, i)).errors
            except Exception as err:  # e.g. the run's images could not be fetched (a 502)
                problems = [f"{type(err).__name__}: {err}"]
            done[home] += 1
            errors[home].extend(problems)
            if problems and home == victim:
                return  # this visitor's replica is gone
            i += 1
            await asyncio.sleep(0.2)

    visitors = [asyncio.create_task(visitor(tab, k)) for k, tab in enumerate(tabs)]
    await asyncio.sleep(3)
    before = dict(done)
    mark = len(served.lines)
    os.kill(served.replicas[victim][0], signal.SIGKILL)
    killed_at = time.monotonic()

    # New visitors meanwhile: every one gets a page, from the survivor or from the victim's new process.
    # A 200 from the victim can only come from the process serve.sh started after the kill.
    arrivals, down_after, back_after = [], None, None
    while time.monotonic() - killed_at < DOWN_WITHIN_SECONDS + 1:
        status, headers, _ = await asyncio.to_thread(served.get, "/")
        since_kill = served.lines[mark:]
        after = round(time.monotonic() - killed_at, 1)
        restarted = any(f"restarting replica {victim}" in line for line in since_kill)
        arrivals.append((after, status, headers.get("X-Normviz-Replica"), restarted))
        if down_after is None and any(f"replicas/{victim} is DOWN" in line for line in since_kill):
            down_after = after
        if back_after is None and status == 200 and headers.get("X-Normviz-Replica") == victim:
            back_after = after
        await asyncio.sleep(0.25)
    await asyncio.sleep(2)  # the survivors keep toggling after the proxy took the victim out
    stop.set()
    await asyncio.gather(*visitors)

    wrong = [a for a in arrivals if not (a[1] == 200 and (a[2] == survivor or a[2] == victim and a[3]))]
    assert not wrong, (wrong, arrivals, served.lines[mark:])
    # The proxy takes the dead replica out within a few seconds. Only when serve.sh has it answering
    # again before two health checks in a row failed does it never go down; the arrivals in between
    # were sent on to the survivor when the victim refused them.
    taken_out = down_after is not None and down_after <= DOWN_WITHIN_SECONDS
    back_first = back_after is not None and (down_after is None or back_after < down_after)
    assert taken_out or back_first, (down_after, back_after, served.output())
    assert errors[survivor] == [], errors[survivor]
    assert done[survivor] > before[survivor] + 4, (before, done)  # they kept working through the kill
    assert errors[victim], "the killed replica's visitors must have lost their connection"

    # serve.sh starts the replica again; the proxy takes it back, and new visitors reach it
    await asyncio.to_thread(served.wait_for, f"restarting replica {victim}", 30, after=mark)
    if down_after is not None:
        await asyncio.to_thread(served.wait_for, f"replicas/{victim} is UP", REJOIN_WITHIN_SECONDS, after=mark)
    newcomer = await Session.open(served.url)  # fewest open pages: the restarted replica
    try:
        assert replica_of(newcomer) == victim
        assert newcomer.first_run.errors == []
        run = await toggle_axes(newcomer, 1)
        assert run.errors == []
    finally:
        await newcomer.close()
        for tab in tabs:
            await tab.close()
    assert re.search(rf"replica {victim} pid \d+ port {served.replicas[victim][1]}", "\n".join(served.lines[mark:]))
