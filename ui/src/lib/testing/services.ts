// Service views for the table's tests, typed with the generated bindings.
import type { ServicePortView } from "../bindings/ServicePortView";
import type { ServiceView } from "../bindings/ServiceView";

export function proxied(name: string | null, port: number, url: string): ServicePortView {
  return {
    name,
    port,
    targetPort: String(port),
    protocol: "TCP",
    appProtocol: null,
    nodePort: null,
    access: {
      kind: "proxy",
      urls: {
        https: false,
        apiserverPath: `/api/v1/x/${port}/proxy/`,
        apiserverUrl: `https://127.0.0.1:6443/api/v1/x/${port}/proxy/`,
        portholeUrl: url,
        curl: `curl '${url}'`,
      },
    },
  };
}

export function service(
  namespace: string,
  name: string,
  fields: Partial<ServiceView> = {},
): ServiceView {
  return {
    namespace,
    name,
    type: "ClusterIP",
    headless: false,
    clusterIp: "10.96.0.1",
    externalName: null,
    ports: [proxied(null, 80, `http://80.${name}.${namespace}.ctx.localhost:8001/`)],
    endpoints: { ready: 1, notReady: 0 },
    external: [],
    notProxyable: null,
    clusterService: false,
    created: null,
    ...fields,
  };
}

/** `count` services spread over ten namespaces. */
export function many(count: number): ServiceView[] {
  return Array.from({ length: count }, (_, i) =>
    service(`ns-${String(i % 10).padStart(2, "0")}`, `svc-${String(i).padStart(5, "0")}`),
  );
}
