// What `portholectl contexts -o json` returns for tests/fixtures/kubeconfig
// with KUBECONFIG=work.yaml:cloud.yaml. Typed with the generated bindings,
// so a change to the Rust types breaks this file at `svelte-check`.
import type { ContextList } from "../bindings/ContextList";

const dir = "/repo/tests/fixtures/kubeconfig";

export const twoFiles: ContextList = {
  origin: { kind: "envVar" },
  sources: [
    { path: `${dir}/work.yaml`, state: { state: "loaded", contexts: 2 } },
    { path: `${dir}/cloud.yaml`, state: { state: "loaded", contexts: 2 } },
  ],
  contexts: [
    {
      name: "arn:aws:eks:eu-west-1:123456789012:cluster/prod",
      cluster: "arn:aws:eks:eu-west-1:123456789012:cluster/prod",
      server: "https://ABCDEF0123456789.gr7.eu-west-1.eks.amazonaws.com",
      user: "eks-prod",
      namespace: "payments",
      current: false,
      source: `${dir}/cloud.yaml`,
    },
    {
      name: "kind-porthole",
      cluster: "kind-porthole",
      server: "https://127.0.0.1:40443",
      user: "kind-porthole",
      namespace: null,
      current: false,
      source: `${dir}/work.yaml`,
    },
    {
      name: "staging",
      cluster: "staging",
      server: "https://staging.k8s.example.com:6443",
      user: "sre",
      namespace: "monitoring",
      current: true,
      source: `${dir}/work.yaml`,
    },
  ],
  currentContext: "staging",
};

export const nothingFound: ContextList = {
  origin: { kind: "default" },
  sources: [{ path: "/home/ada/.kube/config", state: { state: "missing" } }],
  contexts: [],
  currentContext: null,
};
