import { describe, expect, it } from "vitest";
import { createChangeHub } from "../../src/release/change-hub.js";

const job = (id: string) => ({ kind: "job" as const, id });

describe("the change hub", () => {
  it("keeps a change that came before the wait, until the poll before which it is reset", async () => {
    const hub = createChangeHub();
    const watch = hub.watch(job("a"));
    hub.publish({ subject: job("b"), ended: true });
    hub.publish({ subject: job("a"), ended: true });
    expect(await watch.changed(new AbortController().signal)).toBe(true);
    expect(watch.endReported()).toBe(true);
    watch.reset();
    expect(watch.endReported()).toBe(false);
    const stop = new AbortController();
    const waiting = watch.changed(stop.signal);
    stop.abort();
    expect(await waiting).toBe(false);
    watch.close();
  });

  it("wakes a waiting follower on a change, and every follower when it goes deaf", async () => {
    const hub = createChangeHub();
    const a = hub.watch(job("a"));
    const b = hub.watch({ kind: "build", id: "p:1" });
    const signal = new AbortController().signal;
    const first = a.changed(signal);
    hub.publish({ subject: job("a"), ended: false });
    expect(await first).toBe(true);
    expect(a.endReported()).toBe(false);
    a.reset();
    const both = Promise.all([a.changed(signal), b.changed(signal)]);
    hub.setLive(false);
    expect(await both).toEqual([true, true]);
    expect(a.live()).toBe(false);
    hub.setLive(true);
    expect(b.live()).toBe(true);
    a.close();
    b.close();
  });

  it("keeps nothing for subjects nobody follows", () => {
    const hub = createChangeHub();
    for (let i = 0; i < 1000; i++) hub.publish({ subject: job(`j${i}`), ended: true });
    expect(hub.watched()).toBe(0);
    const watch = hub.watch(job("a"));
    const again = hub.watch(job("a"));
    expect(hub.watched()).toBe(1);
    watch.close();
    again.close();
    expect(hub.watched()).toBe(0);
  });
});
