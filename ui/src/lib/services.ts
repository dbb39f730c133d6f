// Pure helpers of the services table: keys, sorting (a table given all its
// rows; the live list is sorted and filtered in the backend), and the text
// of a port.
import type { ServicePortView } from "./bindings/ServicePortView";
import type { ServiceView } from "./bindings/ServiceView";

import type { SortKey } from "./bindings/SortKey";

export type { SortKey };
export type SortDir = "asc" | "desc";

export const keyOf = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

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

/** Sorted copy; ties fall back to namespace then name. */
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

/** `http:80`, `5601`, `dns:53/UDP`. */
export function portLabel(p: ServicePortView): string {
  const base = p.name ? `${p.name}:${p.port}` : String(p.port);
  return p.protocol === "TCP" ? base : `${base}/${p.protocol}`;
}
