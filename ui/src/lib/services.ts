// Pure helpers of the services table: keys, the sort's names, and the text
// of a port. (The rows are sorted and filtered in the backend:
// src-tauri/core/src/discovery/rows.rs.)
import type { ServicePortView } from "./bindings/ServicePortView";
import type { SortKey } from "./bindings/SortKey";

export type { SortKey };
export type SortDir = "asc" | "desc";

export const keyOf = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

/** `http:80`, `5601`, `dns:53/UDP`. */
export function portLabel(p: ServicePortView): string {
  const base = p.name ? `${p.name}:${p.port}` : String(p.port);
  return p.protocol === "TCP" ? base : `${base}/${p.protocol}`;
}
