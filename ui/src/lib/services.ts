// Pure helpers of the services table: sorting, filtering, applying the
// watch's updates, and the text of a port.
import type { ServiceListChange } from "./bindings/ServiceListChange";
import type { ServicePortView } from "./bindings/ServicePortView";
import type { ServiceView } from "./bindings/ServiceView";

export type SortKey = "name" | "namespace" | "type" | "clusterIp" | "ports" | "endpoints";
export type SortDir = "asc" | "desc";

export const keyOf = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

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

// The text the filter searches, once per service object (an update
// brings a new object, so a cached text is never stale).
const haystacks = new WeakMap<ServiceView, string>();

function haystack(s: ServiceView): string {
  let hay = haystacks.get(s);
  if (hay === undefined) {
    hay = [
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
    haystacks.set(s, hay);
  }
  return hay;
}

/**
 * Builds the filter's text of every service in the background, a chunk
 * per task, so the first keystroke after a long list arrives does not pay
 * for ten thousand of them. Returns a function that stops it.
 */
export function prepareFilter(list: ServiceView[], chunk = 1000): () => void {
  let next = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const step = () => {
    const end = Math.min(list.length, next + chunk);
    for (; next < end; next++) haystack(list[next]!);
    timer = next < list.length ? setTimeout(step, 0) : null;
  };
  timer = setTimeout(step, 0);
  return () => {
    if (timer !== null) clearTimeout(timer);
  };
}

/** Every word of `query` must occur in the service's name, namespace, type, IP or ports; keeps the order. */
export function filterServices(list: ServiceView[], query: string): ServiceView[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return list;
  return list.filter((s) => {
    const hay = haystack(s);
    return words.every((w) => hay.includes(w));
  });
}

/** `http:80`, `5601`, `dns:53/UDP`. */
export function portLabel(p: ServicePortView): string {
  const base = p.name ? `${p.name}:${p.port}` : String(p.port);
  return p.protocol === "TCP" ? base : `${base}/${p.protocol}`;
}
