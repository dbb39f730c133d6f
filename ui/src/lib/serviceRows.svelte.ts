// The live service list of one context, as the services view shows it.
// The list itself stays in the backend (one watch at a time, see
// discovery/rows.rs, which filters, sorts and windows it); this holds the
// rows in view and a few around them, fetched through `serviceRows`
// whenever the list, the filter, the sort or the scroll position changes.
// Notices of the current watch carry its id; older ones are dropped.
import type { Degraded } from "./bindings/Degraded";
import type { RowQuery } from "./bindings/RowQuery";
import type { Rows } from "./bindings/Rows";
import type { ServiceListNotice } from "./bindings/ServiceListNotice";
import type { ServiceQuery } from "./bindings/ServiceQuery";
import type { ServiceView } from "./bindings/ServiceView";
import { errorText } from "./api";
import { benchMark } from "./bench";
import { keyOf, type SortDir, type SortKey } from "./services";

/** What the rows need of the backend (`api` has it). */
export type RowsBackend = {
  watchServices: (context: string, query: ServiceQuery) => Promise<number>;
  unwatchServices: (id: number) => Promise<void>;
  onServicesChanged: (h: (n: ServiceListNotice) => void) => Promise<() => void>;
  serviceRows: (watchId: number, query: RowQuery) => Promise<Rows>;
};

/** Rows fetched beyond the ones in view, on each side. */
export const PAD = 40;

/** The rows to ask for when rows `first` … `last - 1` are in view. */
export function windowQuery(
  first: number,
  last: number,
  filter: string,
  sortKey: SortKey,
  sortDir: SortDir,
): RowQuery {
  const offset = Math.max(0, first - PAD);
  return { filter, sort: sortKey, descending: sortDir === "desc", offset, limit: last - offset + PAD };
}

/** The filter text and the order the rows are asked in. */
type Asked = { filter: string; sortKey: SortKey; sortDir: SortDir };

export class ServiceRows {
  /** The rows fetched: `offset` … `offset + rows.length - 1` of the matched ones. */
  rows = $state<ServiceView[]>([]);
  offset = $state(0);
  /** How many services the filter matches. */
  matched = $state(0);
  /** How many services the list has. */
  total = $state(0);
  degraded = $state<Degraded[]>([]);
  /** No complete list yet (its first rows may be shown). */
  loading = $state(true);
  /** Why the watch could not start. */
  failure = $state<string | null>(null);
  /** How long the complete list took in the backend. */
  tookMs = $state<number | null>(null);
  /** The service whose details are open; kept up to date as its row changes. */
  selected = $state<ServiceView | null>(null);

  // What the rows are asked for with, besides where they are.
  #asked = $state<Asked>({
    filter: "",
    sortKey: "name",
    sortDir: "asc",
  });

  readonly #context: string;
  readonly #backend: RowsBackend;
  #watchId: number | null = null;
  // Notices of watches up to this id are old.
  #floorId = 0;
  #range = { first: 0, last: 40 };
  #inFlight = false;
  #again = false;
  #refetchQueued = false;
  #unlisten: (() => void) | null = null;
  #closed = false;
  // The rows shown last, by key and by their JSON: a row that did not
  // change keeps its object, so the table does not touch its DOM (a
  // keystroke that keeps the same rows in view repaints nothing).
  #shown = new Map<string, { json: string; row: ServiceView }>();

  constructor(context: string, backend: RowsBackend) {
    this.#context = context;
    this.#backend = backend;
  }

  // The filter text and the order: a new one fetches new rows.
  get filter(): string {
    return this.#asked.filter;
  }
  set filter(value: string) {
    this.#ask("filter", value);
  }
  get sortKey(): SortKey {
    return this.#asked.sortKey;
  }
  set sortKey(value: SortKey) {
    this.#ask("sortKey", value);
  }
  get sortDir(): SortDir {
    return this.#asked.sortDir;
  }
  set sortDir(value: SortDir) {
    this.#ask("sortDir", value);
  }

  /** Hears the backend's notices (until `close`). */
  async listen(): Promise<void> {
    try {
      const stop = await this.#backend.onServicesChanged((n) => this.#onNotice(n));
      if (this.#closed) stop();
      else this.#unlisten = stop;
    } catch (e) {
      console.warn(`live service updates are off: ${errorText(e)}`);
    }
  }

  /** Stops hearing notices and ends the current watch. */
  close() {
    this.#closed = true;
    this.#unlisten?.();
    this.#unlisten = null;
    if (this.#watchId !== null) void this.#backend.unwatchServices(this.#watchId).catch(() => undefined);
  }

  /** Watches `namespace` (null: all), replacing the current watch in the backend. */
  async watch(namespace: string | null, addedNamespaces: string[]): Promise<void> {
    this.#floorId = Math.max(this.#floorId, this.#watchId ?? 0);
    this.#watchId = null;
    this.loading = true;
    this.failure = null;
    this.rows = [];
    this.offset = 0;
    this.matched = 0;
    this.total = 0;
    this.degraded = [];
    try {
      const id = await this.#backend.watchServices(this.#context, { namespace, addedNamespaces });
      this.#watchId = id;
      this.#floorId = Math.max(this.#floorId, id - 1);
      // Notices that came before the id was known.
      void this.fetch();
    } catch (e) {
      this.failure = errorText(e);
      this.loading = false;
    }
  }

  /** The table shows rows `first` … `last - 1`: fetches them when they are not here yet. */
  onrange(first: number, last: number) {
    this.#range = { first, last };
    const end = Math.min(last, this.matched);
    if (first < this.offset || end > this.offset + this.rows.length) void this.fetch();
  }

  /** Fetches the rows in view (once more after the one in flight, when asked meanwhile). */
  async fetch(): Promise<void> {
    const id = this.#watchId;
    if (id === null) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = true;
    try {
      do {
        this.#again = false;
        const { filter, sortKey, sortDir } = this.#asked;
        const query = windowQuery(this.#range.first, this.#range.last, filter, sortKey, sortDir);
        benchMark(`porthole:rows-asked:${query.filter}`);
        const answer = await this.#backend.serviceRows(id, query);
        if (id !== this.#watchId) return;
        benchMark(`porthole:rows:${query.filter}`);
        this.#apply(answer);
      } while (this.#again);
    } catch (e) {
      if (id === this.#watchId) console.warn(`service rows: ${errorText(e)}`);
    } finally {
      this.#inFlight = false;
      if (this.#again) void this.fetch();
    }
  }

  #apply(answer: Rows) {
    this.rows = this.#reuse(answer.rows);
    this.offset = answer.offset;
    this.matched = answer.matched;
    this.total = answer.total;
    this.degraded = answer.degraded;
    if (this.selected) {
      const key = keyOf(this.selected);
      this.selected = answer.rows.find((s) => keyOf(s) === key) ?? this.selected;
    }
  }

  #reuse(fresh: ServiceView[]): ServiceView[] {
    const next = new Map<string, { json: string; row: ServiceView }>();
    const out = fresh.map((row) => {
      const key = keyOf(row);
      const json = JSON.stringify(row);
      const old = this.#shown.get(key);
      const kept = old && old.json === json ? old.row : row;
      next.set(key, { json, row: kept });
      return kept;
    });
    this.#shown = next;
    return out;
  }

  // A filter or sort set several times in one go (a header click sets the
  // key and the direction) fetches once.
  #ask<K extends keyof Asked>(key: K, value: Asked[K]) {
    if (this.#asked[key] === value) return;
    this.#asked[key] = value;
    if (this.#refetchQueued) return;
    this.#refetchQueued = true;
    queueMicrotask(() => {
      this.#refetchQueued = false;
      void this.fetch();
    });
  }

  #onNotice(notice: ServiceListNotice) {
    if (notice.context !== this.#context) return;
    const current = this.#watchId;
    if (current !== null ? notice.watchId !== current : notice.watchId <= this.#floorId) return;
    if (notice.kind === "reset") {
      benchMark("porthole:reset-received");
      this.loading = false;
      this.tookMs = notice.tookMs;
    }
    void this.fetch();
  }
}
