import { describe, expect, it, vi } from "vitest";
import { applyChange, filterServices, keyOf, prepareFilter, sortServices } from "./services";
import { service } from "./testing/services";

describe("services helpers", () => {
  it("filters a sorted list without changing its order", () => {
    const list = sortServices(
      [service("b", "web-2"), service("a", "web-10"), service("a", "db"), service("a", "web-1")],
      "name",
      "asc",
    );
    expect(list.map(keyOf)).toEqual(["a/db", "a/web-1", "b/web-2", "a/web-10"]);
    expect(filterServices(list, "web").map(keyOf)).toEqual(["a/web-1", "b/web-2", "a/web-10"]);
    expect(filterServices(list, "a/ web").map(keyOf)).toEqual(["a/web-1", "a/web-10"]);
    expect(filterServices(list, "  ")).toBe(list);
  });

  it("a partial list is replaced by the reset that follows", () => {
    const partial = applyChange(new Map(), { kind: "partial", services: [service("a", "x")] });
    expect([...partial.keys()]).toEqual(["a/x"]);
    const reset = applyChange(partial, {
      kind: "reset",
      services: [service("a", "y"), service("b", "z")],
      degraded: [],
      tookMs: 3,
    });
    expect([...reset.keys()]).toEqual(["a/y", "b/z"]);
  });

  it("prepares the filter's texts in the background, in chunks, and can stop", async () => {
    vi.useFakeTimers();
    try {
      const list = Array.from({ length: 25 }, (_, i) => service("ns", `svc-${i}`));
      const stop = prepareFilter(list, 10);
      await vi.advanceTimersByTimeAsync(0);
      stop();
      await vi.runAllTimersAsync();
      // Stopped or not, filtering gives the same answer.
      expect(filterServices(list, "svc-2").map((s) => s.name)).toEqual(["svc-2", "svc-20", "svc-21", "svc-22", "svc-23", "svc-24"]);
      const done = prepareFilter(list, 10);
      await vi.runAllTimersAsync();
      done();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
