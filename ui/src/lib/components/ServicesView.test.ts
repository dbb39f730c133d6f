import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ServicesView from "./ServicesView.svelte";
import type { NamespaceList } from "../bindings/NamespaceList";
import type { ServiceListUpdate } from "../bindings/ServiceListUpdate";
import { setLocale } from "../i18n/index.svelte";
import { service } from "../testing/services";

afterEach(() => setLocale("en"));

function fakeBackend(namespaces: NamespaceList) {
  let handler: ((u: ServiceListUpdate) => void) | null = null;
  let nextId = 1;
  const backend = {
    listNamespaces: vi.fn().mockResolvedValue(namespaces),
    watchServices: vi.fn(async () => nextId++),
    unwatchServices: vi.fn().mockResolvedValue(undefined),
    onServicesChanged: vi.fn(async (h: (u: ServiceListUpdate) => void) => {
      handler = h;
      return () => (handler = null);
    }),
    serviceDetails: vi.fn().mockResolvedValue({ service: service("a", "b"), endpoints: [], pods: [], degraded: [] }),
    openUrl: vi.fn().mockResolvedValue(undefined),
    copyText: vi.fn().mockResolvedValue(undefined),
  };
  const send = (u: ServiceListUpdate) => handler?.(u);
  return { backend, send };
}

const listed: NamespaceList = {
  namespaces: ["default", "kube-system"],
  contextNamespace: "default",
  listed: true,
  degraded: null,
};

const reset = (watchId: number, names: string[]): ServiceListUpdate => ({
  context: "ctx",
  watchId,
  change: {
    kind: "reset",
    services: names.map((n) => service(n.split("/")[0]!, n.split("/")[1]!)),
    degraded: [],
    tookMs: 12,
  },
});

describe("ServicesView", () => {
  it("watches all namespaces, applies reset and changes, filters instantly", async () => {
    const { backend, send } = fakeBackend(listed);
    render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    expect(backend.watchServices).toHaveBeenCalledWith("ctx", { namespace: null, addedNamespaces: [] });
    expect(screen.getByTestId("services-loading")).toBeTruthy();
    send(reset(1, ["default/echo", "kube-system/kibana-logging", "default/spa"]));
    await waitFor(() => expect(screen.getAllByTestId("service-row")).toHaveLength(3));
    send({
      context: "ctx",
      watchId: 1,
      change: { kind: "changed", upserted: [service("default", "new-one")], removed: [{ namespace: "default", name: "echo" }] },
    });
    await waitFor(() =>
      expect(screen.getAllByTestId("service-row").map((r) => r.dataset.key)).toEqual([
        "kube-system/kibana-logging",
        "default/new-one",
        "default/spa",
      ]),
    );
    await fireEvent.input(screen.getByTestId("service-filter"), { target: { value: "kib" } });
    expect(screen.getAllByTestId("service-row").map((r) => r.dataset.key)).toEqual([
      "kube-system/kibana-logging",
    ]);
    await fireEvent.input(screen.getByTestId("service-filter"), { target: { value: "nothing" } });
    expect(screen.getByTestId("services-no-match")).toBeTruthy();
  });

  it("replaces the watch when another namespace is chosen and ignores the old watch", async () => {
    const { backend, send } = fakeBackend(listed);
    render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalledTimes(1));
    await fireEvent.change(screen.getByTestId("namespace-select"), { target: { value: "kube-system" } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalledTimes(2));
    expect(backend.watchServices).toHaveBeenLastCalledWith("ctx", { namespace: "kube-system", addedNamespaces: [] });
    send(reset(1, ["default/stale"]));
    send(reset(2, ["kube-system/kube-dns"]));
    await waitFor(() =>
      expect(screen.getAllByTestId("service-row").map((r) => r.dataset.key)).toEqual(["kube-system/kube-dns"]),
    );
  });

  it("opens a port through the backend, and focuses the filter with /", async () => {
    const { backend, send } = fakeBackend(listed);
    render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    send(reset(1, ["kube-system/kibana-logging"]));
    const port = await screen.findByTestId("port-button");
    await fireEvent.click(port);
    expect(backend.openUrl).toHaveBeenCalledWith("http://80.kibana-logging.kube-system.ctx.localhost:8001/");
    await fireEvent.keyDown(document.body, { key: "/" });
    expect(document.activeElement).toBe(screen.getByTestId("service-filter"));
  });

  it("says when listing namespaces is not allowed, and what it shows instead", async () => {
    const { backend, send } = fakeBackend({
      namespaces: ["team-a"],
      contextNamespace: "team-a",
      listed: false,
      degraded: { resource: "namespaces", namespace: null, reason: "forbidden", forbidden: true },
    });
    render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() =>
      expect(backend.watchServices).toHaveBeenCalledWith("ctx", { namespace: "team-a", addedNamespaces: [] }),
    );
    expect(screen.getByTestId("namespaces-degraded").textContent).toContain(
      "Listing namespaces is not allowed for this user: showing team-a.",
    );
    send(reset(1, []));
    expect((await screen.findByTestId("services-empty")).textContent).toContain("No services in team-a.");
  });

  it("opens the details drawer and copies a curl command", async () => {
    const { backend, send } = fakeBackend(listed);
    render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    send(reset(1, ["default/spa"]));
    await fireEvent.click(await screen.findByTestId("service-row"));
    expect(await screen.findByTestId("service-drawer")).toBeTruthy();
    expect(backend.serviceDetails).toHaveBeenCalledWith("ctx", "default", "spa");
    await fireEvent.click(screen.getByTestId("copy-curl"));
    expect(backend.copyText).toHaveBeenCalledWith("curl 'http://80.spa.default.ctx.localhost:8001/'");
    await fireEvent.keyDown(screen.getByTestId("service-drawer"), { key: "Escape" });
    expect(screen.queryByTestId("service-drawer")).toBeNull();
  });

  it("ends its own watch when it leaves the screen", async () => {
    const { backend } = fakeBackend(listed);
    const { unmount } = render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    await Promise.resolve();
    unmount();
    expect(backend.unwatchServices).toHaveBeenCalledWith(1);
  });
});
