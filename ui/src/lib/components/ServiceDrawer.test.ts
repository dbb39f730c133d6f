import { fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ServiceDrawer from "./ServiceDrawer.svelte";
import ClusterInfoPanel from "./ClusterInfoPanel.svelte";
import { setLocale } from "../i18n/index.svelte";
import { proxied, service } from "../testing/services";

afterEach(() => setLocale("en"));

const external = service("default", "external-name", {
  type: "ExternalName",
  clusterIp: null,
  externalName: "search.porthole.test",
  endpoints: null,
  notProxyable: { reason: "externalName", externalName: "search.porthole.test", url: "https://search.porthole.test/" },
  ports: [
    {
      ...proxied("https", 443, "x"),
      access: {
        kind: "notProxyable",
        why: { reason: "externalName", externalName: "search.porthole.test", url: "https://search.porthole.test/" },
      },
    },
  ],
});

describe("ServiceDrawer", () => {
  it("says why an ExternalName cannot be proxied and opens its URL directly", async () => {
    const onopen = vi.fn();
    render(ServiceDrawer, {
      props: {
        context: "ctx",
        service: external,
        load: vi.fn().mockResolvedValue({ service: external, endpoints: [], pods: [], degraded: [] }),
        onopen,
        oncopy: vi.fn(),
        onclose: vi.fn(),
      },
    });
    const why = screen.getByTestId("not-proxyable");
    expect(why.textContent).toContain("the apiserver cannot proxy to search.porthole.test");
    await fireEvent.click(screen.getAllByRole("button", { name: "Open directly" })[0]!);
    expect(onopen).toHaveBeenCalledWith("https://search.porthole.test/");
  });

  it("lists pods with their pod proxy links", async () => {
    const onopen = vi.fn();
    const spa = service("default", "spa");
    render(ServiceDrawer, {
      props: {
        context: "ctx",
        service: spa,
        load: vi.fn().mockResolvedValue({
          service: spa,
          endpoints: [{ addresses: ["10.1.0.5"], ready: true, serving: true, terminating: false, pod: "spa-0", node: null }],
          pods: [
            {
              namespace: "default",
              name: "spa-0",
              phase: "Running",
              ready: true,
              podIp: "10.1.0.5",
              node: null,
              ports: [
                {
                  container: "web",
                  name: null,
                  port: 8080,
                  protocol: "TCP",
                  urls: { apiserverPath: "/p", apiserverUrl: "https://a/p", portholeUrl: "http://ctx.localhost:8001/api/v1/namespaces/default/pods/spa-0:8080/proxy/", curl: "curl x" },
                },
              ],
            },
          ],
          degraded: [],
        }),
        onopen,
        oncopy: vi.fn(),
        onclose: vi.fn(),
      },
    });
    await fireEvent.click(await screen.findByRole("button", { name: "Open pod port 8080" }));
    expect(onopen).toHaveBeenCalledWith("http://ctx.localhost:8001/api/v1/namespaces/default/pods/spa-0:8080/proxy/");
  });
});

describe("ClusterInfoPanel", () => {
  it("shows the control plane and opens a builtin through Porthole", async () => {
    const open = vi.fn().mockResolvedValue({ kind: "opened" });
    const kibana = service("kube-system", "kibana-logging", {
      ports: [proxied(null, 5601, "http://5601.kibana-logging.kube-system.ctx.localhost:8001/")],
    });
    render(ClusterInfoPanel, {
      props: {
        context: "ctx",
        open,
        load: vi.fn().mockResolvedValue({
          context: "ctx",
          controlPlane: "https://127.0.0.1:6443",
          controlPlanePortholeUrl: "http://ctx.localhost:8001/",
          services: [{ title: "Kibana", service: kibana, urls: kibana.ports[0]!.access.kind === "proxy" ? kibana.ports[0]!.access.urls : null }],
          degraded: [],
        }),
      },
    });
    expect((await screen.findByTestId("cluster-info")).textContent).toContain(
      "Kubernetes control plane is running at",
    );
    await fireEvent.click(
      screen.getByRole("button", { name: "http://5601.kibana-logging.kube-system.ctx.localhost:8001/" }),
    );
    expect(open).toHaveBeenCalledWith("http://5601.kibana-logging.kube-system.ctx.localhost:8001/");
  });

  it("offers Forward beside Open for an HTTP port, and alone for a database port", async () => {
    const onforward = vi.fn();
    const onopen = vi.fn();
    const mixed = service("team-a", "app", {
      ports: [
        proxied("http", 80, "http://http.app.team-a.ctx.localhost:8001/"),
        proxied("postgres", 5432, "http://postgres.app.team-a.ctx.localhost:8001/", "postgres"),
      ],
    });
    render(ServiceDrawer, {
      props: {
        context: "ctx",
        service: mixed,
        load: vi.fn().mockResolvedValue({ service: mixed, endpoints: [], pods: [], degraded: [] }),
        onopen,
        oncopy: vi.fn(),
        onforward,
        onclose: vi.fn(),
      },
    });
    const [http, db] = screen.getAllByTestId("drawer-port");
    expect(http!.querySelector("[data-testid=drawer-open]")).toBeTruthy();
    expect(db!.querySelector("[data-testid=drawer-open]")).toBeNull();
    expect(db!.textContent).toContain("postgres");
    const forwards = screen.getAllByTestId("drawer-forward");
    expect(forwards).toHaveLength(2);
    await fireEvent.click(forwards[1]!);
    expect(onforward).toHaveBeenCalledWith(mixed.ports[1]);
    await fireEvent.click(forwards[0]!);
    expect(onforward).toHaveBeenCalledWith(mixed.ports[0]);
    expect(onopen).not.toHaveBeenCalled();
  });
});
