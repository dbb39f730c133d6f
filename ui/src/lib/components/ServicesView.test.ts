import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ServicesView from "./ServicesView.svelte";
import type { NamespaceList } from "../bindings/NamespaceList";
import type { OpenOutcome } from "../bindings/OpenOutcome";
import type { ServiceListUpdate } from "../bindings/ServiceListUpdate";
import { setLocale } from "../i18n/index.svelte";
import type { RowQuery } from "../bindings/RowQuery";
import type { ServiceListNotice } from "../bindings/ServiceListNotice";
import type { ServiceView } from "../bindings/ServiceView";
import { forbidden, listed } from "../testing/namespaces";
import { applyChange, proxied, rowsOf, service } from "../testing/services";
import { ForwardList } from "../forwards.svelte";
import { fakeForwards } from "../testing/forwards";

afterEach(() => setLocale("en"));

function fakeBackend(namespaces: NamespaceList) {
  let handler: ((n: ServiceListNotice) => void) | null = null;
  let nextId = 1;
  // The backend's live list, which `send` changes as a watch would.
  let list = new Map<string, ServiceView>();
  let complete = false;
  const backend = {
    listNamespaces: vi.fn().mockResolvedValue(namespaces),
    addNamespace: vi.fn(async (_ctx: string, ns: string) => [...namespaces.added, ns].sort()),
    removeNamespace: vi.fn(async (_ctx: string, ns: string) => namespaces.added.filter((n) => n !== ns)),
    watchServices: vi.fn(async () => {
      list = new Map();
      complete = false;
      return nextId++;
    }),
    unwatchServices: vi.fn().mockResolvedValue(undefined),
    onServicesChanged: vi.fn(async (h: (n: ServiceListNotice) => void) => {
      handler = h;
      return () => (handler = null);
    }),
    serviceRows: vi.fn(async (_id: number, q: RowQuery) => rowsOf([...list.values()], q, complete)),
    serviceDetails: vi.fn().mockResolvedValue({ service: service("a", "b"), endpoints: [], pods: [], degraded: [] }),
    openUrl: vi.fn(async (_url: string, _start?: boolean): Promise<OpenOutcome> => ({ kind: "opened" })),
    copyText: vi.fn().mockResolvedValue(undefined),
  };
  const send = (u: ServiceListUpdate) => {
    list = applyChange(list, u.change);
    if (u.change.kind === "reset") complete = true;
    handler?.({
      context: u.context,
      watchId: u.watchId,
      kind: u.change.kind,
      tookMs: u.change.kind === "reset" ? u.change.tookMs : null,
    });
  };
  return { backend, send };
}

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
  it("keeps a long list in the backend and fetches the rows in view as the table scrolls", async () => {
    const { backend, send } = fakeBackend(listed);
    render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    const names = Array.from({ length: 1000 }, (_, i) => `ns/svc-${String(i).padStart(4, "0")}`);
    send(reset(1, names));
    await waitFor(() => expect(screen.getByTestId("service-count").textContent?.trim()).toBe("1,000 of 1,000 services"));
    const rows = screen.getAllByTestId("service-row");
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(40);
    const firstAsk = backend.serviceRows.mock.calls.at(-1)![1];
    expect(firstAsk.offset).toBe(0);
    expect(firstAsk.limit).toBeLessThan(100);
    const table = screen.getByTestId("service-table");
    expect(table.getAttribute("aria-rowcount")).toBe("1001");
    table.scrollTop = 36 * 500;
    await fireEvent.scroll(table);
    await waitFor(() => expect(document.querySelector('[data-index="500"]')?.getAttribute("data-key")).toBe("ns/svc-0500"));
    const scrolledAsk = backend.serviceRows.mock.calls.at(-1)![1];
    expect(scrolledAsk.offset).toBeGreaterThan(400);
    expect(scrolledAsk.offset).toBeLessThanOrEqual(500);
  });

  it("shows the first rows of a long list while it loads, then the whole list", async () => {
    const { backend, send } = fakeBackend(listed);
    render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    send({
      context: "ctx",
      watchId: 1,
      change: { kind: "partial", services: [service("default", "echo"), service("default", "spa")] },
    });
    await waitFor(() => expect(screen.getAllByTestId("service-row")).toHaveLength(2));
    expect(screen.queryByTestId("services-loading")).toBeNull();
    expect(screen.getByTestId("service-count").textContent).toContain("so far");
    send(reset(1, ["default/echo", "default/spa", "kube-system/kibana-logging"]));
    await waitFor(() => expect(screen.getAllByTestId("service-row")).toHaveLength(3));
    expect(screen.getByTestId("service-count").textContent?.trim()).toBe("3 of 3 services");
  });

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

  it("asks the backend for the rows in the order a header click chooses, once a click", async () => {
    const { backend, send } = fakeBackend(listed);
    render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    send(reset(1, ["default/zeta", "kube-system/alpha", "default/mid"]));
    const shown = () => screen.getAllByTestId("service-row").map((r) => r.dataset.key);
    await waitFor(() => expect(shown()).toEqual(["kube-system/alpha", "default/mid", "default/zeta"]));
    expect(backend.serviceRows.mock.calls.at(-1)![1]).toMatchObject({ sort: "name", descending: false });
    const before = backend.serviceRows.mock.calls.length;
    await fireEvent.click(screen.getByTestId("sort-name"));
    await waitFor(() => expect(shown()).toEqual(["default/zeta", "default/mid", "kube-system/alpha"]));
    expect(backend.serviceRows.mock.calls.length).toBe(before + 1);
    expect(backend.serviceRows.mock.calls.at(-1)![1]).toMatchObject({ sort: "name", descending: true });
    // Key and direction change together: still one request.
    await fireEvent.click(screen.getByTestId("sort-endpoints"));
    await waitFor(() =>
      expect(backend.serviceRows.mock.calls.at(-1)![1]).toMatchObject({ sort: "endpoints", descending: true }),
    );
    expect(backend.serviceRows.mock.calls.length).toBe(before + 2);
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
      added: [],
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

  it("asks before starting the proxy when the backend says so, and opens once agreed", async () => {
    const { backend, send } = fakeBackend(listed);
    const url = "http://80.kibana-logging.kube-system.ctx.localhost:8001/";
    backend.openUrl.mockImplementation(async (_u: string, start?: boolean) =>
      start ? { kind: "opened" } : { kind: "proxyOffAskFirst", target: "kube-system/kibana-logging:80" },
    );
    render(ServicesView, { props: { context: "ctx", backend, proxyRunning: false, proxyAsks: true } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    send(reset(1, ["kube-system/kibana-logging"]));
    const port = await screen.findByTestId("port-button");
    expect(port.title).toBe("Open 80 in the browser (asks to start the proxy)");
    port.focus();
    await fireEvent.click(port);
    const dialog = await screen.findByRole("alertdialog", { name: "Start the local proxy?" });
    expect(dialog.textContent).toContain(
      "The local proxy is off. Start it and open kube-system/kibana-logging:80?",
    );
    expect(backend.openUrl).toHaveBeenCalledTimes(1);
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Start and open" }));
    // "/" does not reach the filter behind the dialog.
    await fireEvent.keyDown(document.activeElement!, { key: "/" });
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Start and open" }));
    await fireEvent.keyDown(document.activeElement!, { key: "Enter" });
    await waitFor(() => expect(backend.openUrl).toHaveBeenLastCalledWith(url, true));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).toBeNull());
    expect(document.activeElement).toBe(port);
    expect(screen.queryByTestId("services-notice")).toBeNull();
  });

  it("leaves the proxy off when the question is cancelled with Escape", async () => {
    const { backend, send } = fakeBackend(listed);
    backend.openUrl.mockResolvedValue({ kind: "proxyOffAskFirst", target: "default/spa:80" });
    render(ServicesView, { props: { context: "ctx", backend, proxyRunning: false, proxyAsks: true } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    send(reset(1, ["default/spa"]));
    const port = await screen.findByTestId("port-button");
    port.focus();
    await fireEvent.click(port);
    const dialog = await screen.findByRole("alertdialog");
    await fireEvent.keyDown(dialog, { key: "Escape" });
    await waitFor(() => expect(screen.queryByRole("alertdialog")).toBeNull());
    expect(backend.openUrl).toHaveBeenCalledTimes(1);
    expect(backend.openUrl).toHaveBeenCalledWith("http://80.spa.default.ctx.localhost:8001/");
    expect(document.activeElement).toBe(port);
  });

  it("shows the backend's reason when opening fails (a broken browser command)", async () => {
    const { backend, send } = fakeBackend(listed);
    backend.openUrl.mockRejectedValue(
      "browserCommand: the ' quote at character 1 is never closed (close it, or escape it with a backslash); the link was not opened",
    );
    render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    send(reset(1, ["default/spa"]));
    await fireEvent.click(await screen.findByTestId("port-button"));
    expect((await screen.findByTestId("services-notice")).textContent).toContain(
      "Could not open the link: browserCommand: the ' quote at character 1 is never closed",
    );
  });

  it("adds a namespace by name when namespaces cannot be listed, and watches it", async () => {
    const { backend } = fakeBackend(forbidden);
    render(ServicesView, { props: { context: "viewer", backend } });
    await waitFor(() =>
      expect(backend.watchServices).toHaveBeenCalledWith("viewer", {
        namespace: "team-a",
        addedNamespaces: ["monitoring"],
      }),
    );
    expect(screen.getByTestId("namespaces-degraded").textContent).toContain(
      "Listing namespaces is not allowed for this user: showing team-a, monitoring.",
    );
    const select = screen.getByTestId("namespace-select") as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(["monitoring", "team-a"]);
    const input = screen.getByLabelText("Namespace to add") as HTMLInputElement;
    await fireEvent.input(input, { target: { value: " kube-public " } });
    await fireEvent.submit(input.closest("form")!);
    await waitFor(() => expect(backend.addNamespace).toHaveBeenCalledWith("viewer", "kube-public"));
    await waitFor(() =>
      expect(backend.watchServices).toHaveBeenLastCalledWith("viewer", {
        namespace: "kube-public",
        addedNamespaces: ["kube-public", "monitoring"],
      }),
    );
    expect([...select.options].map((o) => o.value)).toEqual(["kube-public", "monitoring", "team-a"]);
    expect(select.value).toBe("kube-public");
    expect(input.value).toBe("");
    expect(
      [...screen.getByTestId("namespaces-added").querySelectorAll("li")].map((li) => li.dataset.name),
    ).toEqual(["kube-public", "monitoring"]);
  });

  it("refuses what is not a namespace name, saying what to fix, and sends nothing", async () => {
    const { backend } = fakeBackend(forbidden);
    render(ServicesView, { props: { context: "viewer", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    const input = screen.getByLabelText("Namespace to add") as HTMLInputElement;
    const cases: [string, string][] = [
      ["", "Type a namespace name."],
      ["Team-B", "Namespace names are lower case: “Team-B” would be “team-b”."],
      ["team_b", "“_” is not allowed in a namespace name. A namespace name has at most 63"],
      ["team-", "A namespace name cannot start or end with “-”."],
      ["a".repeat(64), "has 64 characters; a namespace name has at most 63."],
    ];
    for (const [value, says] of cases) {
      await fireEvent.input(input, { target: { value } });
      await fireEvent.submit(input.closest("form")!);
      expect(screen.getByRole("alert").textContent, value).toContain(says);
      expect(input.getAttribute("aria-invalid")).toBe("true");
      expect(input.getAttribute("aria-describedby")).toBe("ns-add-problem");
    }
    expect(backend.addNamespace).not.toHaveBeenCalled();
    // Typing clears the complaint.
    await fireEvent.input(input, { target: { value: "team-b" } });
    expect(screen.queryByRole("alert")).toBeNull();
    // A name already in the list is selected, not added again.
    await fireEvent.input(input, { target: { value: "monitoring" } });
    await fireEvent.submit(input.closest("form")!);
    expect(backend.addNamespace).not.toHaveBeenCalled();
    await waitFor(() => expect((screen.getByTestId("namespace-select") as HTMLSelectElement).value).toBe("monitoring"));
  });

  it("shows the backend's refusal when adding fails", async () => {
    const { backend } = fakeBackend(forbidden);
    backend.addNamespace.mockRejectedValue("cannot save settings: disk full");
    render(ServicesView, { props: { context: "viewer", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    const input = screen.getByLabelText("Namespace to add");
    await fireEvent.input(input, { target: { value: "ops" } });
    await fireEvent.submit(input.closest("form")!);
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The namespace could not be added: cannot save settings: disk full",
    );
  });

  it("removes an added namespace, going back to the context's own when it was shown", async () => {
    const { backend } = fakeBackend(forbidden);
    render(ServicesView, { props: { context: "viewer", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    const select = screen.getByTestId("namespace-select") as HTMLSelectElement;
    await fireEvent.change(select, { target: { value: "monitoring" } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenLastCalledWith("viewer", {
      namespace: "monitoring",
      addedNamespaces: ["monitoring"],
    }));
    await fireEvent.click(screen.getByRole("button", { name: "Remove monitoring" }));
    await waitFor(() => expect(backend.removeNamespace).toHaveBeenCalledWith("viewer", "monitoring"));
    await waitFor(() =>
      expect(backend.watchServices).toHaveBeenLastCalledWith("viewer", { namespace: "team-a", addedNamespaces: [] }),
    );
    expect([...select.options].map((o) => o.value)).toEqual(["team-a"]);
    expect(screen.queryByTestId("namespaces-added")).toBeNull();
    expect(document.activeElement).toBe(screen.getByLabelText("Namespace to add"));
  });

  it("offers no way to add namespaces when they can be listed", async () => {
    const { backend } = fakeBackend(listed);
    render(ServicesView, { props: { context: "ctx", backend } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    expect(screen.queryByTestId("namespace-add")).toBeNull();
  });

  it("forwards a database port and shows where to connect and how, live", async () => {
    const { backend, send } = fakeBackend(listed);
    const fake = fakeForwards();
    const forwards = new ForwardList(fake.backend);
    const onshowforwards = vi.fn();
    render(ServicesView, { props: { context: "ctx", backend, forwards, onshowforwards } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    const db = service("team-a", "db", {
      ports: [proxied("postgres", 5432, "http://x/", "postgres")],
    });
    send({ context: "ctx", watchId: 1, change: { kind: "reset", services: [db], degraded: [], tookMs: 1 } });
    const button = await screen.findByTestId("forward-button");
    await fireEvent.click(button);
    await waitFor(() => expect(screen.getByTestId("forward-card")).toBeTruthy());
    expect(fake.backend.startForward).toHaveBeenCalledWith({
      context: "ctx",
      namespace: "team-a",
      kind: "service",
      name: "db",
      remote: 5432,
    });
    expect(screen.getByTestId("forward-address").textContent).toBe("127.0.0.1:15000");
    expect(screen.getAllByTestId("forward-command").map((c) => c.textContent)).toEqual([
      "psql -h 127.0.0.1 -p 15000",
      "nc 127.0.0.1 15000",
    ]);
    expect(document.activeElement?.getAttribute("data-testid")).toBe("copy-address");
    await fireEvent.click(screen.getByTestId("copy-address"));
    expect(backend.copyText).toHaveBeenCalledWith("127.0.0.1:15000");
    // The table says the port is forwarded now.
    await waitFor(() =>
      expect(screen.getByTestId("forward-button").getAttribute("aria-label")).toBe(
        "postgres:5432 is forwarded to 127.0.0.1:15000",
      ),
    );
    // The card follows the forward's state.
    await fireEvent.click(screen.getByTestId("forward-card-stop"));
    await waitFor(() =>
      expect(screen.getByTestId("forward-card").querySelector("[data-testid=forward-state]")?.getAttribute("data-state")).toBe(
        "stopped",
      ),
    );
    await fireEvent.click(screen.getByTestId("forward-card-all"));
    expect(onshowforwards).toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId("forward-card-close"));
    expect(screen.queryByTestId("forward-card")).toBeNull();
  });

  it("says why a forward could not start", async () => {
    const { backend, send } = fakeBackend(listed);
    const fake = fakeForwards();
    fake.backend.startForward = vi.fn().mockRejectedValue("port-forward ctx/team-a/svc/db:5432: bad name");
    const forwards = new ForwardList(fake.backend);
    render(ServicesView, { props: { context: "ctx", backend, forwards } });
    await waitFor(() => expect(backend.watchServices).toHaveBeenCalled());
    const db = service("team-a", "db", { ports: [proxied("redis", 6379, "http://x/", "redis")] });
    send({ context: "ctx", watchId: 1, change: { kind: "reset", services: [db], degraded: [], tookMs: 1 } });
    await fireEvent.click(await screen.findByTestId("forward-button"));
    await waitFor(() =>
      expect(screen.getByTestId("services-notice").textContent).toContain(
        "Could not start the forward: port-forward ctx/team-a/svc/db:5432: bad name",
      ),
    );
  });
});
