// Pure helpers of the services table: keys, the sort's names, and the text
// of a port. (The rows are sorted and filtered in the backend:
// src-tauri/core/src/discovery/rows.rs.)
import type { ServicePortView } from "./bindings/ServicePortView";
import type { ServiceView } from "./bindings/ServiceView";
import type { SortKey } from "./bindings/SortKey";

export type { SortKey };
export type SortDir = "asc" | "desc";

export const keyOf = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

/** `http:80`, `5601`, `dns:53/UDP`. */
export function portLabel(p: ServicePortView): string {
  const base = p.name ? `${p.name}:${p.port}` : String(p.port);
  return p.protocol === "TCP" ? base : `${base}/${p.protocol}`;
}

/**
 * What a port's button does: `open` an HTTP port in the browser (it also
 * offers Forward, in the details), `forward` anything else TCP to a local
 * port, or `none` (UDP, ExternalName: neither works).
 */
export function portAction(s: ServiceView, p: ServicePortView): "open" | "forward" | "none" {
  if (p.http && p.access.kind === "proxy") return "open";
  return canForward(s, p) ? "forward" : "none";
}

/** A port-forward reaches this port: TCP, and a service with Pods behind it. */
export function canForward(s: ServiceView, p: ServicePortView): boolean {
  return p.protocol === "TCP" && s.type !== "ExternalName";
}
