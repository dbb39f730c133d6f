import { afterEach, describe, expect, it, vi } from "vitest";
import { ForwardList, POLL_MS, formatBytes, isActive, targetLabel } from "./forwards.svelte";
import { fakeForwards, forwardView } from "./testing/forwards";

afterEach(() => vi.useRealTimers());

describe("ForwardList", () => {
  it("reads the forwards, then follows the backend's events", async () => {
    const pg = forwardView("postgres", 5432, 5432);
    const { backend, announce } = fakeForwards([pg]);
    const list = new ForwardList(backend);
    await list.listen();
    expect(list.views.map((v) => v.id)).toEqual([pg.id]);
    expect(list.active).toBe(1);
    announce([{ ...pg, status: { ...pg.status, state: { kind: "healing" } } }]);
    expect(list.views[0]!.status.state.kind).toBe("healing");
    announce([]);
    expect(list.active).toBe(0);
    list.close();
  });

  it("asks for the counters every second while watched, and stops when no one watches", async () => {
    vi.useFakeTimers();
    const { backend } = fakeForwards([forwardView("redis", 6379, 6379)]);
    const list = new ForwardList(backend);
    const first = list.watch();
    const second = list.watch();
    await vi.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(backend.listForwards).toHaveBeenCalledTimes(3);
    first();
    first();
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(backend.listForwards).toHaveBeenCalledTimes(4);
    second();
    await vi.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(backend.listForwards).toHaveBeenCalledTimes(4);
  });

  it("applies what each action answers at once", async () => {
    const { backend } = fakeForwards();
    const list = new ForwardList(backend);
    const target = { context: "ctx", namespace: "team-a", kind: "service" as const, name: "db", remote: 5432 };
    const started = await list.start(target);
    expect(list.find(target)?.id).toBe(started.id);
    expect(list.find({ ...target, remote: 5433 })).toBeUndefined();
    await list.stop(started.id);
    expect(list.byId(started.id)?.status.state.kind).toBe("stopped");
    expect(list.active).toBe(0);
    await list.setLocalPort(started.id, 25432);
    expect(list.byId(started.id)?.address).toBe("127.0.0.1:25432");
    await list.startAll();
    expect(list.active).toBe(1);
    await list.remove(started.id);
    expect(list.views).toEqual([]);
  });

  it("says why the list could not be read", async () => {
    const { backend } = fakeForwards();
    backend.listForwards = vi.fn().mockRejectedValue("the app is stopping");
    const list = new ForwardList(backend);
    await list.refresh();
    expect(list.failure).toBe("the app is stopping");
  });
});

describe("forward helpers", () => {
  it("name the target kubectl's way and count bytes as people read them", () => {
    expect(targetLabel(forwardView("postgres", 5432, 5432))).toBe("team-a/svc/postgres:5432");
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(4200)).toBe("4.1 KiB");
    expect(formatBytes(50 * 1024 * 1024)).toBe("50 MiB");
    expect(isActive(forwardView("a", 1, 1, { kind: "waitingForPod" }))).toBe(true);
    expect(isActive(forwardView("a", 1, 1, { kind: "failed", reason: "x" }))).toBe(false);
  });
});
