// Which namespace the services view shows: all of them (when namespaces can
// be listed) or one. When listing is refused, the context's own namespace
// and the ones the user added by name (remembered per context by the
// backend) are offered instead. Choosing one calls `onchoose`, which
// starts the watch of that namespace.
import type { NamespaceList } from "./bindings/NamespaceList";
import { errorText } from "./api";

/** What the picker needs of the backend (`api` has it). */
export type NamespacesBackend = {
  listNamespaces: (context: string) => Promise<NamespaceList>;
  addNamespace: (context: string, namespace: string) => Promise<string[]>;
  removeNamespace: (context: string, namespace: string) => Promise<string[]>;
};

/** The selector's value for all namespaces. */
export const ALL = "*";

export class NamespacePicker {
  /** The namespaces offered (null: not known, all are watched). */
  list = $state<NamespaceList | null>(null);
  /** The namespace shown; null: all of them. */
  namespace = $state<string | null>(null);

  readonly #context: string;
  readonly #backend: NamespacesBackend;
  readonly #onchoose: (namespace: string | null) => void;

  constructor(context: string, backend: NamespacesBackend, onchoose: (namespace: string | null) => void) {
    this.#context = context;
    this.#backend = backend;
    this.#onchoose = onchoose;
  }

  /** The namespaces added by name, sent with every watch. */
  get added(): string[] {
    return this.list?.added ?? [];
  }

  /** Reads the namespaces; the first one shown is all (or, when listing is refused, the context's own). */
  async load(): Promise<void> {
    try {
      const list = await this.#backend.listNamespaces(this.#context);
      this.list = list;
      this.namespace = list.listed ? null : list.contextNamespace;
    } catch (e) {
      // The list of services may still work: watch all namespaces.
      this.list = null;
      this.namespace = null;
      console.warn(`namespaces: ${errorText(e)}`);
    }
  }

  /** Shows `value` (`ALL`: every namespace). */
  choose(value: string) {
    this.namespace = value === ALL ? null : value;
    this.#onchoose(this.namespace);
  }

  /** `name` is offered already. */
  offers(name: string): boolean {
    return this.list?.namespaces.includes(name) ?? false;
  }

  /** Adds `name` (a valid namespace name) to the offered ones and shows it; rejects with the backend's reason. */
  async add(name: string): Promise<void> {
    if (!this.list) return;
    const added = await this.#backend.addNamespace(this.#context, name);
    this.#update(added, (list) => [...new Set([...list.namespaces, name])].sort());
    this.choose(name);
  }

  /**
   * Forgets the added `name`; when it was shown and is no longer offered,
   * the context's own namespace is shown. Rejects with the backend's reason.
   */
  async remove(name: string): Promise<void> {
    if (!this.list) return;
    const added = await this.#backend.removeNamespace(this.#context, name);
    const list = this.#update(added, (list) =>
      list.namespaces.filter((n) => n !== name || n === list.contextNamespace || added.includes(n)),
    );
    if (list && this.namespace === name && !list.namespaces.includes(name)) this.choose(list.contextNamespace);
  }

  /** The list with the backend's `added` namespaces and the ones `offered` makes of it. */
  #update(added: string[], offered: (list: NamespaceList) => string[]): NamespaceList | null {
    const list = this.list;
    if (!list) return null;
    this.list = { ...list, added, namespaces: offered(list) };
    return this.list;
  }

  /** The namespaces shown when listing is refused: the context's and the added ones. */
  shownText(): string {
    const list = this.list;
    if (!list) return "";
    return [list.contextNamespace, ...list.added.filter((n) => n !== list.contextNamespace)].join(", ");
  }
}
