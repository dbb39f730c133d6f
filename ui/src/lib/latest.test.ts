import { describe, expect, it } from "vitest";
import { Latest } from "./latest.svelte";

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function deferred<T>() {
  let resolve: (v: T) => void = () => undefined;
  let reject: (e: unknown) => void = () => undefined;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe("Latest", () => {
  it("holds the answer once it came", async () => {
    const latest = new Latest<string>();
    latest.ask(() => Promise.resolve("yaml"));
    expect(latest.value).toBeNull();
    await settle();
    expect(latest.value).toBe("yaml");
    expect(latest.failure).toBeNull();
  });

  it("says why there is no answer", async () => {
    const latest = new Latest<string>();
    latest.ask(() => Promise.reject(new Error("forbidden")));
    await settle();
    expect(latest.value).toBeNull();
    expect(latest.failure).toBe("forbidden");
  });

  it("forgets the last answer when asked again, and drops an older question's late answer", async () => {
    const latest = new Latest<string>();
    latest.ask(() => Promise.reject("first failed"));
    await settle();
    const old = deferred<string>();
    const end = latest.ask(() => old.promise);
    expect(latest.failure).toBeNull();
    end();
    latest.ask(() => Promise.resolve("new"));
    old.resolve("old");
    await settle();
    expect(latest.value).toBe("new");
    const stale = deferred<string>();
    latest.ask(() => stale.promise)();
    stale.reject("late");
    await settle();
    expect(latest.failure).toBeNull();
  });
});
