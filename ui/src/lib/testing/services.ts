// Service views for the table's tests, typed with the generated bindings,
// and a stand-in for the backend's live list (src-tauri/core/src/discovery/rows.rs).
import type { RowQuery } from "../bindings/RowQuery";
import type { Rows } from "../bindings/Rows";
import type { ServiceListChange } from "../bindings/ServiceListChange";
import type { PortKind } from "../bindings/PortKind";
import type { ServicePortView } from "../bindings/ServicePortView";
import type { ServiceView } from "../bindings/ServiceView";
import type { SortDir, SortKey } from "../services";
import { keyOf } from "../services";

/** Applies one watch update to the list (keyed by namespace/name). */
export function applyChange(
  list: Map<string, ServiceView>,
  change: ServiceListChange,
): Map<string, ServiceView> {
  // A partial list (the first rows of a long one) is replaced by the reset that follows.
  if (change.kind === "reset" || change.kind === "partial")
    return new Map(change.services.map((s) => [keyOf(s), s]));
  if (change.kind === "changed") {
    const next = new Map(list);
    for (const key of change.removed) next.delete(keyOf(key));
    for (const s of change.upserted) next.set(keyOf(s), s);
    return next;
  }
  return list;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

function ipValue(ip: string | null): string {
  if (!ip) return "\uffff";
  const parts = ip.split(".");
  return parts.length === 4 ? parts.map((p) => p.padStart(3, "0")).join(".") : ip;
}

function sortValue(s: ServiceView, key: SortKey): string | number {
  switch (key) {
    case "name":
      return s.name;
    case "namespace":
      return s.namespace;
    case "type":
      return s.type;
    case "clusterIp":
      return ipValue(s.clusterIp);
    case "ports":
      return s.ports[0]?.port ?? -1;
    case "endpoints":
      return s.endpoints?.ready ?? -1;
  }
}

/** Sorted copy, as the backend sorts (rows.rs `compare`); ties fall back to namespace then name. */
export function sortServices(list: ServiceView[], key: SortKey, dir: SortDir): ServiceView[] {
  const sign = dir === "asc" ? 1 : -1;
  return [...list].sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    const primary =
      typeof x === "number" && typeof y === "number" ? x - y : collator.compare(String(x), String(y));
    if (primary !== 0) return sign * primary;
    return collator.compare(a.namespace, b.namespace) || collator.compare(a.name, b.name);
  });
}

/** Every word of `query` occurs in the name, namespace, type, IP or ports (as the backend filters). */
export function filterServices(list: ServiceView[], query: string): ServiceView[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return list;
  return list.filter((s) => {
    const hay = [
      s.name,
      s.namespace,
      `${s.namespace}/${s.name}`,
      s.type,
      s.clusterIp ?? "",
      s.externalName ?? "",
      ...s.ports.map((p) => `${p.name ?? ""} ${p.port}`),
    ]
      .join(" ")
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** What the backend's `service_rows` answers for `list`. */
export function rowsOf(list: ServiceView[], q: RowQuery, complete = true): Rows {
  const shown = filterServices(sortServices(list, q.sort, q.descending ? "desc" : "asc"), q.filter);
  const offset = Math.min(q.offset, Math.max(0, shown.length - Math.max(1, q.limit)));
  return {
    total: list.length,
    matched: shown.length,
    offset,
    rows: shown.slice(offset, offset + q.limit),
    complete,
    degraded: [],
  };
}

/** A proxyable TCP port; `kind` as the backend classified it (HTTP by default). */
export function proxied(
  name: string | null,
  port: number,
  url: string,
  kind: PortKind = "http",
): ServicePortView {
  return {
    name,
    port,
    targetPort: String(port),
    protocol: "TCP",
    appProtocol: null,
    nodePort: null,
    kind,
    http: kind === "http" || kind === "https",
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
