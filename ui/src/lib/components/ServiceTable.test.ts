import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ServiceTable from "./ServiceTable.svelte";
import { setLocale } from "../i18n/index.svelte";
import { many, proxied, service } from "../testing/services";

afterEach(() => setLocale("en"));

const names = () => screen.getAllByTestId("service-row").map((r) => r.dataset.key);

const three = [
  service("default", "zeta", { clusterIp: "10.96.0.20", endpoints: { ready: 0, notReady: 1 } }),
  service("kube-system", "alpha", { clusterIp: "10.96.0.3", endpoints: { ready: 3, notReady: 0 } }),
  service("default", "mid", { type: "NodePort", clusterIp: "10.96.0.100" }),
];

describe("ServiceTable", () => {
  it("shows the rows in the order given (the backend sorts them)", () => {
    render(ServiceTable, { props: { services: three, onopen: vi.fn(), ondetails: vi.fn() } });
    expect(names()).toEqual(["default/zeta", "kube-system/alpha", "default/mid"]);
    expect(screen.getByTestId("sort-name").parentElement?.getAttribute("aria-sort")).toBe("ascending");
  });

  it("changes the order asked for: a column ascending, then descending; endpoints descending first", async () => {
    const sortKey = () =>
      [...document.querySelectorAll("[role=columnheader]")]
        .filter((h) => h.getAttribute("aria-sort") !== "none")
        .map((h) => `${h.querySelector("button")?.dataset.testid}:${h.getAttribute("aria-sort")}`);
    render(ServiceTable, { props: { services: three, onopen: vi.fn(), ondetails: vi.fn() } });
    await fireEvent.click(screen.getByTestId("sort-clusterIp"));
    expect(screen.getByTestId("sort-clusterIp").parentElement?.getAttribute("aria-sort")).toBe(
      "ascending",
    );
    expect(sortKey()).toEqual(["sort-clusterIp:ascending"]);
    expect(screen.getByTestId("sort-clusterIp").textContent).toContain("▲");
    await fireEvent.click(screen.getByTestId("sort-clusterIp"));
    expect(sortKey()).toEqual(["sort-clusterIp:descending"]);
    expect(screen.getByTestId("sort-clusterIp").textContent).toContain("▼");
    await fireEvent.click(screen.getByTestId("sort-endpoints"));
    expect(sortKey()).toEqual(["sort-endpoints:descending"]);
    // The rows stay as given: the order is the backend's to make.
    expect(names()).toEqual(["default/zeta", "kube-system/alpha", "default/mid"]);
  });

  it("renders only the visible rows of ten thousand", async () => {
    const { container } = render(ServiceTable, {
      props: { services: many(10_000), onopen: vi.fn(), ondetails: vi.fn(), fallbackHeight: 360 },
    });
    const rows = screen.getAllByTestId("service-row");
    // 360 px / 36 px = 10 rows in view, plus the overscan below.
    expect(rows.length).toBeLessThanOrEqual(10 + 8);
    expect(rows[0]!.dataset.key).toBe("ns-00/svc-00000");
    const viewport = screen.getByTestId("service-table");
    viewport.scrollTop = 36 * 5000;
    await fireEvent.scroll(viewport);
    const after = screen.getAllByTestId("service-row");
    expect(after.length).toBeLessThanOrEqual(10 + 16);
    expect(after.some((r) => r.dataset.key === "ns-00/svc-05000")).toBe(true);
    expect(container.querySelector(".spacer")?.getAttribute("style")).toContain("360000px");
  });

  it("opens a port in the browser with its Porthole URL, and a row's details", async () => {
    const onopen = vi.fn();
    const ondetails = vi.fn();
    const kibana = service("kube-system", "kibana-logging", {
      ports: [proxied(null, 5601, "http://5601.kibana-logging.kube-system.ctx.localhost:8001/")],
    });
    render(ServiceTable, { props: { services: [kibana], onopen, ondetails } });
    const row = screen.getByTestId("service-row");
    await fireEvent.click(within(row).getByRole("button", { name: "5601" }));
    expect(onopen).toHaveBeenCalledWith(
      "http://5601.kibana-logging.kube-system.ctx.localhost:8001/",
      kibana,
      kibana.ports[0],
    );
    expect(ondetails).not.toHaveBeenCalled();
    await fireEvent.keyDown(row, { key: "Enter" });
    expect(ondetails).toHaveBeenCalledWith(kibana);
  });

  it("shows ports that cannot be proxied as text, not buttons", () => {
    const dns = service("kube-system", "kube-dns", {
      ports: [
        {
          ...proxied("dns", 53, "x"),
          protocol: "UDP",
          access: { kind: "notProxyable", why: { reason: "notTcp", protocol: "UDP", tcpAlternative: "dns-tcp" } },
        },
      ],
    });
    render(ServiceTable, { props: { services: [dns], onopen: vi.fn(), ondetails: vi.fn() } });
    expect(screen.queryByTestId("port-button")).toBeNull();
    expect(screen.getByTestId("port-off").textContent).toBe("dns:53/UDP");
  });

  it("offers Forward, not Open, for a port that is not HTTP, and both ways for an HTTP one", async () => {
    const onopen = vi.fn();
    const onforward = vi.fn();
    const db = service("team-a", "db", {
      ports: [
        proxied("postgres", 5432, "http://postgres.db.team-a.ctx.localhost:8001/", "postgres"),
        proxied("http", 80, "http://http.db.team-a.ctx.localhost:8001/"),
      ],
    });
    render(ServiceTable, {
      props: {
        services: [db],
        onopen,
        onforward,
        forwarded: (_s, p) => (p.port === 5432 ? "127.0.0.1:15432" : null),
        ondetails: vi.fn(),
      },
    });
    const forward = screen.getByTestId("forward-button");
    expect(forward.dataset.kind).toBe("postgres");
    expect(forward.textContent).toBe("postgres:5432");
    expect(forward.getAttribute("aria-label")).toBe("postgres:5432 is forwarded to 127.0.0.1:15432");
    expect(screen.getAllByTestId("port-button").map((b) => b.textContent)).toEqual(["http:80"]);
    await fireEvent.click(forward);
    expect(onforward).toHaveBeenCalledWith(db, db.ports[0]);
    expect(onopen).not.toHaveBeenCalled();
  });

  it("shows a port that is not HTTP as text when nothing can forward it", () => {
    const db = service("team-a", "db", {
      ports: [proxied("postgres", 5432, "x", "postgres")],
    });
    render(ServiceTable, { props: { services: [db], onopen: vi.fn(), ondetails: vi.fn() } });
    expect(screen.queryByTestId("forward-button")).toBeNull();
    expect(screen.queryByTestId("port-button")).toBeNull();
    expect(screen.getByTestId("port-off").textContent).toBe("postgres:5432");
  });

  it("labels its columns in Chinese", () => {
    setLocale("zh-CN");
    render(ServiceTable, { props: { services: three, onopen: vi.fn(), ondetails: vi.fn() } });
    expect(screen.getByTestId("sort-name").textContent).toContain("名称");
  });
});
