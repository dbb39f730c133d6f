// What `portholectl contexts -o json` returns for tests/fixtures/kubeconfig
// with KUBECONFIG=work.yaml:cloud.yaml. Typed with the generated bindings,
// so a change to the Rust types breaks this file at `svelte-check`.
// (The rows are built untyped first so the fields being added to the Rust
// types — `stale`, `added` — may be present before the bindings have them.)
import type { ContextList } from "../bindings/ContextList";
import type { ContextSummary } from "../bindings/ContextSummary";
import type { SourceReport } from "../bindings/SourceReport";

const dir = "/repo/tests/fixtures/kubeconfig";

/** A file of the list; `added`: added in Porthole's settings. */
export function source(
  path: string,
  state: SourceReport["state"],
  added = false,
): SourceReport {
  const row = { path, state, added };
  return row;
}

/** A context summary; `stale`: its file broke and this is the last good version. */
export function context(fields: Omit<ContextSummary, "stale">, stale = false): ContextSummary {
  const row = { ...fields, stale };
  return row;
}

export const twoFiles: ContextList = {
  origin: { kind: "envVar" },
  sources: [
    source(`${dir}/work.yaml`, { state: "loaded", contexts: 2 }),
    source(`${dir}/cloud.yaml`, { state: "loaded", contexts: 2 }),
  ],
  contexts: [
    context({
      name: "arn:aws:eks:eu-west-1:123456789012:cluster/prod",
      cluster: "arn:aws:eks:eu-west-1:123456789012:cluster/prod",
      server: "https://ABCDEF0123456789.gr7.eu-west-1.eks.amazonaws.com",
      user: "eks-prod",
      namespace: "payments",
      current: false,
      source: `${dir}/cloud.yaml`,
    }),
    context({
      name: "kind-porthole",
      cluster: "kind-porthole",
      server: "https://127.0.0.1:40443",
      user: "kind-porthole",
      namespace: null,
      current: false,
      source: `${dir}/work.yaml`,
    }),
    context({
      name: "staging",
      cluster: "staging",
      server: "https://staging.k8s.example.com:6443",
      user: "sre",
      namespace: "monitoring",
      current: true,
      source: `${dir}/work.yaml`,
    }),
  ],
  currentContext: "staging",
};

export const nothingFound: ContextList = {
  origin: { kind: "default" },
  sources: [source("/home/ada/.kube/config", { state: "missing" })],
  contexts: [],
  currentContext: null,
};
