import { afterEach, describe, expect, it, vi } from "vitest";
import type { NamespaceList } from "./bindings/NamespaceList";
import { ALL, NamespacePicker } from "./namespacePicker.svelte";
import { forbidden, listed } from "./testing/namespaces";

afterEach(() => vi.restoreAllMocks());

function picker(list: NamespaceList) {
  const backend = {
    listNamespaces: vi.fn(async (_ctx: string) => list),
    addNamespace: vi.fn(async (_ctx: string, ns: string) => [...list.added, ns].sort()),
    removeNamespace: vi.fn(async (_ctx: string, ns: string) => list.added.filter((n) => n !== ns)),
  };
  const chosen: (string | null)[] = [];
  const p = new NamespacePicker("ctx", backend, (ns) => chosen.push(ns));
  return { p, backend, chosen };
}

describe("NamespacePicker", () => {
  it("shows all namespaces first when they can be listed", async () => {
    const { p, backend } = picker(listed);
    await p.load();
    expect(backend.listNamespaces).toHaveBeenCalledWith("ctx");
    expect(p.namespace).toBeNull();
    expect(p.added).toEqual([]);
    expect(p.offers("kube-system")).toBe(true);
  });

  it("shows the context's own namespace when listing is refused", async () => {
    const { p } = picker(forbidden);
    await p.load();
    expect(p.namespace).toBe("team-a");
    expect(p.added).toEqual(["monitoring"]);
    expect(p.shownText()).toBe("team-a, monitoring");
  });

  it("watches all namespaces when the namespaces cannot be read", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { p, backend } = picker(listed);
    backend.listNamespaces.mockRejectedValueOnce("connection refused");
    await p.load();
    expect(p.list).toBeNull();
    expect(p.namespace).toBeNull();
    expect(p.added).toEqual([]);
    expect(console.warn).toHaveBeenCalledWith("namespaces: connection refused");
  });

  it("tells whoever watches what was chosen; ALL is null", async () => {
    const { p, chosen } = picker(listed);
    await p.load();
    p.choose("kube-system");
    p.choose(ALL);
    expect(chosen).toEqual(["kube-system", null]);
    expect(p.namespace).toBeNull();
  });

  it("adds a namespace by name, offers it in order and shows it", async () => {
    const { p, backend, chosen } = picker(forbidden);
    await p.load();
    await p.add("kube-public");
    expect(backend.addNamespace).toHaveBeenCalledWith("ctx", "kube-public");
    expect(p.list?.namespaces).toEqual(["kube-public", "monitoring", "team-a"]);
    expect(p.added).toEqual(["kube-public", "monitoring"]);
    expect(p.namespace).toBe("kube-public");
    expect(chosen).toEqual(["kube-public"]);
  });

  it("keeps the list as it was when adding is refused", async () => {
    const { p, backend, chosen } = picker(forbidden);
    await p.load();
    backend.addNamespace.mockRejectedValueOnce("disk full");
    await expect(p.add("ops")).rejects.toBe("disk full");
    expect(p.list?.namespaces).toEqual(["monitoring", "team-a"]);
    expect(chosen).toEqual([]);
  });

  it("removes an added namespace and goes back to the context's own when it was shown", async () => {
    const { p, backend, chosen } = picker(forbidden);
    await p.load();
    p.choose("monitoring");
    await p.remove("monitoring");
    expect(backend.removeNamespace).toHaveBeenCalledWith("ctx", "monitoring");
    expect(p.list?.namespaces).toEqual(["team-a"]);
    expect(p.added).toEqual([]);
    expect(chosen).toEqual(["monitoring", "team-a"]);
  });

  it("keeps showing the namespace shown when another one is removed", async () => {
    const { p, chosen } = picker(forbidden);
    await p.load();
    await p.remove("monitoring");
    expect(p.namespace).toBe("team-a");
    expect(chosen).toEqual([]);
  });
});
