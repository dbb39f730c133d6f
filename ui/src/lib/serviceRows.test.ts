import { afterEach, describe, expect, it, vi } from "vitest";
import type { RowQuery } from "./bindings/RowQuery";
import type { Rows } from "./bindings/Rows";
import type { ServiceListNotice } from "./bindings/ServiceListNotice";
import { PAD, ServiceRows, windowQuery } from "./serviceRows.svelte";
import { many, rowsOf, service } from "./testing/services";

afterEach(() => {
  performance.clearMarks();
  vi.restoreAllMocks();
});

/** Lets the store's awaits and queued fetches run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function backend(list = many(1000)) {
  let handler: ((n: ServiceListNotice) => void) | null = null;
  let nextId = 1;
  const fake = {
    watchServices: vi.fn(async () => nextId++),
    unwatchServices: vi.fn(async (_id: number) => undefined),
    onServicesChanged: vi.fn(async (h: (n: ServiceListNotice) => void) => {
      handler = h;
      return () => (handler = null);
    }),
    serviceRows: vi.fn(async (_id: number, q: RowQuery): Promise<Rows> => rowsOf(list, q)),
  };
  const notify = (n: Partial<ServiceListNotice> & { watchId: number }) =>
    handler?.({ context: "ctx", kind: "reset", tookMs: 7, ...n });
  return { fake, notify, listening: () => handler !== null };
}

/** Rows of a watch of all namespaces whose complete list has come. */
async function started(fake: ReturnType<typeof backend>) {
  const rows = new ServiceRows("ctx", fake.fake);
  await rows.listen();
  await rows.watch(null, []);
  fake.notify({ watchId: 1 });
  await settle();
  return rows;
}

describe("windowQuery", () => {
  it("asks for the rows in view and PAD more on each side", () => {
    expect(windowQuery(100, 120, "web", "ports", "desc")).toEqual({
      filter: "web",
      sort: "ports",
      descending: true,
      offset: 100 - PAD,
      limit: 20 + 2 * PAD,
    });
  });

  it("starts at the first row near the top", () => {
    expect(windowQuery(3, 20, "", "name", "asc")).toMatchObject({ offset: 0, limit: 20 + PAD, descending: false });
  });
});

describe("ServiceRows", () => {
  it("fetches the window of the current watch when its list is complete", async () => {
    const { fake, notify } = backend();
    const rows = new ServiceRows("ctx", fake);
    await rows.listen();
    await rows.watch(null, ["extra"]);
    expect(fake.watchServices).toHaveBeenCalledWith("ctx", { namespace: null, addedNamespaces: ["extra"] });
    expect(rows.loading).toBe(true);
    notify({ watchId: 1 });
    await settle();
    expect(rows.loading).toBe(false);
    expect(rows.tookMs).toBe(7);
    expect(rows.total).toBe(1000);
    expect(rows.matched).toBe(1000);
    expect(rows.offset).toBe(0);
    expect(rows.rows).toHaveLength(40 + PAD);
    expect(performance.getEntriesByName("porthole:reset-received")).toHaveLength(1);
  });

  it("drops notices of other contexts and of older watches", async () => {
    const { fake, notify } = backend();
    const rows = new ServiceRows("ctx", fake);
    await rows.listen();
    await rows.watch("a", []);
    await rows.watch("b", []);
    await settle();
    const asked = fake.serviceRows.mock.calls.length;
    notify({ watchId: 1 });
    notify({ watchId: 2, context: "other" });
    await settle();
    expect(fake.serviceRows.mock.calls.length).toBe(asked);
    expect(rows.loading).toBe(true);
    notify({ watchId: 2 });
    await settle();
    expect(rows.loading).toBe(false);
    expect(fake.serviceRows.mock.calls.at(-1)![0]).toBe(2);
  });

  it("fetches when the table shows rows not fetched yet, and only then", async () => {
    const b = backend();
    const { fake } = b;
    const rows = await started(b);
    const asked = fake.serviceRows.mock.calls.length;
    rows.onrange(10, 30);
    await settle();
    expect(fake.serviceRows.mock.calls.length).toBe(asked);
    rows.onrange(500, 520);
    await settle();
    expect(fake.serviceRows.mock.calls.length).toBe(asked + 1);
    expect(fake.serviceRows.mock.calls.at(-1)![1]).toMatchObject({ offset: 500 - PAD, limit: 20 + 2 * PAD });
    expect(rows.offset).toBe(500 - PAD);
    expect(rows.rows[PAD]!.name).toBe("svc-00500");
  });

  it("asks once for a filter and a sort set together, with the bench's marks", async () => {
    const b = backend();
    const { fake } = b;
    const rows = await started(b);
    const asked = fake.serviceRows.mock.calls.length;
    rows.filter = "svc-0001";
    rows.sortKey = "namespace";
    rows.sortDir = "desc";
    rows.sortDir = "desc";
    await settle();
    expect(fake.serviceRows.mock.calls.length).toBe(asked + 1);
    expect(fake.serviceRows.mock.calls.at(-1)![1]).toMatchObject({
      filter: "svc-0001",
      sort: "namespace",
      descending: true,
    });
    expect(rows.matched).toBe(10);
    expect(performance.getEntriesByName("porthole:rows-asked:svc-0001")).toHaveLength(1);
    expect(performance.getEntriesByName("porthole:rows:svc-0001")).toHaveLength(1);
    rows.filter = "svc-0001";
    await settle();
    expect(fake.serviceRows.mock.calls.length).toBe(asked + 1);
  });

  it("asks again after the request in flight when asked meanwhile", async () => {
    const { fake, notify } = backend();
    let release: (() => void) | null = null;
    const answer = fake.serviceRows.getMockImplementation()!;
    fake.serviceRows.mockImplementationOnce(
      (id, q) => new Promise<Rows>((resolve) => (release = () => resolve(answer(id, q)))),
    );
    const rows = new ServiceRows("ctx", fake);
    await rows.listen();
    await rows.watch(null, []);
    notify({ watchId: 1 });
    rows.filter = "svc-00002";
    rows.onrange(0, 40);
    await settle();
    expect(fake.serviceRows).toHaveBeenCalledTimes(1);
    release!();
    await settle();
    expect(fake.serviceRows).toHaveBeenCalledTimes(2);
    expect(fake.serviceRows.mock.calls[1]![1].filter).toBe("svc-00002");
    expect(rows.rows.map((r) => r.name)).toEqual(["svc-00002"]);
  });

  it("keeps the selected service up to date as its row changes", async () => {
    let list = [service("a", "one"), service("a", "two")];
    const b = backend();
    b.fake.serviceRows.mockImplementation(async (_id, q) => rowsOf(list, q));
    const rows = await started(b);
    rows.selected = rows.rows[1]!;
    list = [service("a", "one"), service("a", "two", { type: "NodePort" })];
    b.notify({ watchId: 1, kind: "changed", tookMs: null });
    await settle();
    expect(rows.rows.map((r) => r.type)).toEqual(["ClusterIP", "NodePort"]);
    expect(rows.selected?.type).toBe("NodePort");
  });

  it("says why the watch could not start", async () => {
    const { fake } = backend();
    fake.watchServices.mockRejectedValueOnce("forbidden: services");
    const rows = new ServiceRows("ctx", fake);
    await rows.watch(null, []);
    expect(rows.failure).toBe("forbidden: services");
    expect(rows.loading).toBe(false);
  });

  it("stops listening and ends its watch when closed, even if listening started late", async () => {
    const { fake, listening } = backend();
    const rows = new ServiceRows("ctx", fake);
    await rows.watch(null, []);
    const late = rows.listen();
    rows.close();
    await late;
    expect(listening()).toBe(false);
    expect(fake.unwatchServices).toHaveBeenCalledWith(1);
  });

  it("works without live updates, saying so", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { fake } = backend();
    fake.onServicesChanged.mockRejectedValueOnce(new Error("no channel"));
    const rows = new ServiceRows("ctx", fake);
    await rows.listen();
    expect(warn).toHaveBeenCalledWith("live service updates are off: no channel");
  });
});
