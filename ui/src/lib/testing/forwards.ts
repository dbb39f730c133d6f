// Forward views for the tests, typed with the generated bindings, and a
// stand-in for the backend's forwards (src-tauri/core/src/workspace/forwards.rs).
import { vi } from "vitest";
import type { ForwardState } from "../bindings/ForwardState";
import type { ForwardTarget } from "../bindings/ForwardTarget";
import type { ForwardView } from "../bindings/ForwardView";
import type { ForwardsBackend } from "../forwards.svelte";

/** A forward of `name:port` in team-a, listening on 127.0.0.1:`local`. */
export function forwardView(
  name: string,
  port: number,
  local: number,
  state: ForwardState = { kind: "listening" },
  fields: Partial<ForwardView> = {},
): ForwardView {
  const running = state.kind !== "stopped" && state.kind !== "failed";
  return {
    id: `ctx/team-a/svc/${name}:${port}`,
    context: "ctx",
    target: { namespace: "team-a", kind: "service", name },
    remote: port,
    localPort: local,
    address: `127.0.0.1:${local}`,
    restore: true,
    portKind: "postgres",
    commands: [
      { tool: "psql", command: `psql -h 127.0.0.1 -p ${local}` },
      { tool: "nc", command: `nc 127.0.0.1 ${local}` },
    ],
    status: {
      state,
      listening: running ? [`127.0.0.1:${local}`] : [],
      pod: running ? `${name}-0` : null,
      podPort: running ? port : null,
      transport: running ? "WebSocket" : null,
      connectionsActive: 0,
      connectionsTotal: 0,
      bytesSent: 0,
      bytesReceived: 0,
      heals: 0,
      lastError: null,
    },
    ...fields,
  };
}

/** A backend whose forwards live in `views` and change as the real one's do. */
export function fakeForwards(initial: ForwardView[] = []) {
  let views = [...initial];
  let handler: ((v: ForwardView[]) => void) | null = null;
  const set = (id: string, change: (v: ForwardView) => ForwardView): ForwardView => {
    const at = views.findIndex((v) => v.id === id);
    if (at < 0) throw `no port-forward "${id}"`;
    views[at] = change(views[at]!);
    return views[at]!;
  };
  const withState = (v: ForwardView, state: ForwardState) => {
    const fresh = forwardView(v.target.name, Number(v.remote), v.localPort, state);
    return { ...v, status: fresh.status };
  };
  const backend: ForwardsBackend = {
    listForwards: vi.fn(async () => [...views]),
    startForward: vi.fn(async (t: ForwardTarget) => {
      const id = `${t.context}/${t.namespace}/svc/${t.name}:${t.remote}`;
      const known = views.find((v) => v.id === id);
      if (known) return set(id, (v) => withState(v, { kind: "listening" }));
      const view = forwardView(t.name, Number(t.remote), 15000 + views.length, { kind: "listening" }, {
        id,
        context: t.context,
        target: { namespace: t.namespace, kind: t.kind, name: t.name },
      });
      views.push(view);
      return view;
    }),
    resumeForward: vi.fn(async (id: string) => set(id, (v) => withState(v, { kind: "listening" }))),
    stopForward: vi.fn(async (id: string) => set(id, (v) => withState(v, { kind: "stopped" }))),
    restartForward: vi.fn(async (id: string) => set(id, (v) => withState(v, { kind: "listening" }))),
    removeForward: vi.fn(async (id: string) => {
      views = views.filter((v) => v.id !== id);
    }),
    setForwardLocalPort: vi.fn(async (id: string, port: number) =>
      set(id, (v) => ({ ...v, localPort: port, address: `127.0.0.1:${port}` })),
    ),
    setForwardRestore: vi.fn(async (id: string, restore: boolean) => set(id, (v) => ({ ...v, restore }))),
    startSavedForwards: vi.fn(async () => {
      views = views.map((v) => withState(v, { kind: "listening" }));
      return [...views];
    }),
    onForwardsChanged: vi.fn(async (h: (v: ForwardView[]) => void) => {
      handler = h;
      return () => (handler = null);
    }),
  };
  /** What the backend's `forwards-changed` event would say. */
  const announce = (next: ForwardView[]) => {
    views = [...next];
    handler?.(next);
  };
  return { backend, announce, views: () => views };
}
