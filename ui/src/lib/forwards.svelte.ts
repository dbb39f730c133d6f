// The port-forwards the window shows (the Forwards view, the services
// table's "Forward", the count in the top bar): every forward across
// contexts, kept current by the backend's `forwards-changed` events (the
// set and each state) and, while a view that shows byte counts is on
// screen, by asking again every second. Each action answers with the
// forward's new view, applied at once.
import type { ForwardTarget } from "./bindings/ForwardTarget";
import type { ForwardView } from "./bindings/ForwardView";
import type * as api from "./api";

export type ForwardsBackend = Pick<
  typeof api,
  | "listForwards"
  | "startForward"
  | "resumeForward"
  | "stopForward"
  | "restartForward"
  | "removeForward"
  | "setForwardLocalPort"
  | "setForwardRestore"
  | "startSavedForwards"
  | "onForwardsChanged"
>;

/** How often byte counts are read while they are shown. */
export const POLL_MS = 1000;

/** Still has its listener (starting, listening, healing, waiting for a Pod). */
export function isActive(view: ForwardView): boolean {
  const kind = view.status.state.kind;
  return kind !== "failed" && kind !== "stopped";
}

/** `context · team-a/svc/postgres:5432`. */
export function targetLabel(view: ForwardView): string {
  const kinds: Record<string, string> = {
    service: "svc",
    pod: "pod",
    deployment: "deploy",
    replicaSet: "rs",
    statefulSet: "sts",
    daemonSet: "ds",
  };
  const t = view.target;
  return `${t.namespace}/${kinds[t.kind] ?? t.kind}/${t.name}:${view.remote}`;
}

/** 1.2 KiB, 3.4 MiB: bytes as people read them. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export class ForwardList {
  views = $state<ForwardView[]>([]);
  /** Why the list could not be read, if it could not. */
  failure = $state<string | null>(null);
  /** How many run now (for the top bar). */
  active = $derived(this.views.filter(isActive).length);
  #backend: ForwardsBackend;
  #watchers = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #unlisten: (() => void) | null = null;

  constructor(backend: ForwardsBackend) {
    this.#backend = backend;
  }

  /** Listens to the backend's events, then reads the list. */
  async listen(): Promise<void> {
    try {
      this.#unlisten = await this.#backend.onForwardsChanged((views) => (this.views = views));
    } catch (e) {
      console.warn(`forwards: live updates are off: ${String(e)}`);
    }
    await this.refresh();
  }

  close() {
    this.#unlisten?.();
    this.#unlisten = null;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#watchers = 0;
  }

  async refresh(): Promise<void> {
    try {
      this.views = await this.#backend.listForwards();
      this.failure = null;
    } catch (e) {
      this.failure = typeof e === "string" ? e : String(e);
    }
  }

  /**
   * Reads the list every second until the returned function is called (a
   * view that shows byte counts calls it when it leaves the screen).
   */
  watch(): () => void {
    this.#watchers += 1;
    if (this.#timer === null) this.#timer = setInterval(() => void this.refresh(), POLL_MS);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#watchers -= 1;
      if (this.#watchers <= 0 && this.#timer !== null) {
        clearInterval(this.#timer);
        this.#timer = null;
        this.#watchers = 0;
      }
    };
  }

  byId(id: string): ForwardView | undefined {
    return this.views.find((v) => v.id === id);
  }

  /** The forward of `target`'s port, if there is one. */
  find(target: ForwardTarget): ForwardView | undefined {
    return this.views.find(
      (v) =>
        v.context === target.context &&
        v.target.namespace === target.namespace &&
        v.target.kind === target.kind &&
        v.target.name === target.name &&
        String(v.remote) === String(target.remote),
    );
  }

  #apply(view: ForwardView): ForwardView {
    const at = this.views.findIndex((v) => v.id === view.id);
    if (at >= 0) this.views[at] = view;
    else this.views = [...this.views, view];
    return view;
  }

  async start(target: ForwardTarget): Promise<ForwardView> {
    return this.#apply(await this.#backend.startForward(target));
  }

  async resume(id: string): Promise<ForwardView> {
    return this.#apply(await this.#backend.resumeForward(id));
  }

  async stop(id: string): Promise<ForwardView> {
    return this.#apply(await this.#backend.stopForward(id));
  }

  async restart(id: string): Promise<ForwardView> {
    return this.#apply(await this.#backend.restartForward(id));
  }

  async remove(id: string): Promise<void> {
    await this.#backend.removeForward(id);
    this.views = this.views.filter((v) => v.id !== id);
  }

  async setLocalPort(id: string, port: number): Promise<ForwardView> {
    return this.#apply(await this.#backend.setForwardLocalPort(id, port));
  }

  async setRestore(id: string, restore: boolean): Promise<ForwardView> {
    return this.#apply(await this.#backend.setForwardRestore(id, restore));
  }

  async startAll(): Promise<void> {
    this.views = await this.#backend.startSavedForwards();
  }
}
