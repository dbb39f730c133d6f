// Namespace lists as the backend's `list_namespaces` answers them, typed
// with the generated bindings.
import type { NamespaceList } from "../bindings/NamespaceList";

/** Namespaces can be listed. */
export const listed: NamespaceList = {
  namespaces: ["default", "kube-system"],
  contextNamespace: "default",
  listed: true,
  degraded: null,
  added: [],
};

/** Listing is refused: the context's namespace and one added by hand. */
export const forbidden: NamespaceList = {
  namespaces: ["monitoring", "team-a"],
  contextNamespace: "team-a",
  listed: false,
  degraded: { resource: "namespaces", namespace: null, reason: "forbidden", forbidden: true },
  added: ["monitoring"],
};
