// The only door from the UI to the backend. Every payload type comes from
// ./bindings, generated from the Rust types by ts-rs (never written by hand).
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ClusterInfoView } from "./bindings/ClusterInfoView";
import type { ContextList } from "./bindings/ContextList";
import type { ForwardTarget } from "./bindings/ForwardTarget";
import type { ForwardView } from "./bindings/ForwardView";
import type { NamespaceList } from "./bindings/NamespaceList";
import type { OpenOutcome } from "./bindings/OpenOutcome";
import type { ServiceDetails } from "./bindings/ServiceDetails";
import type { RowQuery } from "./bindings/RowQuery";
import type { Rows } from "./bindings/Rows";
import type { ServiceListNotice } from "./bindings/ServiceListNotice";
import type { ServiceQuery } from "./bindings/ServiceQuery";
import type { ProxySettings } from "./bindings/ProxySettings";
import type { ProxyStatus } from "./bindings/ProxyStatus";
import type { Settings } from "./bindings/Settings";
import type { StatusUpdate } from "./bindings/StatusUpdate";

export function listContexts(): Promise<ContextList> {
  return invoke<ContextList>("list_contexts");
}

/** The latest status of every context probed so far. */
export function contextStatuses(): Promise<StatusUpdate[]> {
  return invoke<StatusUpdate[]>("context_statuses");
}

/** Re-reads the kubeconfig files and probes every context again. */
export function reload(): Promise<ContextList> {
  return invoke<ContextList>("reload");
}

/** The context's kubeconfig as `kubectl config view --minify` shows it, secrets masked. */
export function configView(context: string): Promise<string> {
  return invoke<string>("config_view", { context });
}

export function getSettings(): Promise<Settings> {
  return invoke<Settings>("get_settings");
}

/**
 * Why Porthole's settings file could not be used (it names the file; the
 * defaults are in use and the file is kept), or `null` when it loaded.
 */
export function settingsProblem(): Promise<string | null> {
  return invoke<string | null>("settings_problem");
}

/**
 * Opens the system's file picker (titled `title`) and adds the chosen
 * kubeconfig; `null` when the user cancelled. The path is chosen in the
 * native dialog, never sent from here.
 */
export function addKubeconfig(title: string): Promise<Settings | null> {
  return invoke<Settings | null>("add_kubeconfig", { title });
}

/** Forgets a file added in the app (the file itself is untouched). */
export function removeKubeconfig(path: string): Promise<Settings> {
  return invoke<Settings>("remove_kubeconfig", { path });
}

export function setExtraPathDirs(dirs: string[]): Promise<Settings> {
  return invoke<Settings>("set_extra_path_dirs", { dirs });
}

/** The command that opens services in the browser ("" = the system's browser). */
export function setBrowserCommand(command: string): Promise<Settings> {
  return invoke<Settings>("set_browser_command", { command });
}

/** The local proxy's status as of now (changes arrive through `onProxyStatus`). */
export function proxyStatus(): Promise<ProxyStatus> {
  return invoke<ProxyStatus>("proxy_status");
}

/** Starts the proxy with the saved settings; a port in use comes back as a `failed` status. */
export function startProxy(): Promise<ProxyStatus> {
  return invoke<ProxyStatus>("start_proxy");
}

/** Stops the proxy (requests in flight get a moment to finish). */
export function stopProxy(): Promise<ProxyStatus> {
  return invoke<ProxyStatus>("stop_proxy");
}

/** Saves the proxy settings; a running proxy restarts with them. */
export function setProxySettings(settings: ProxySettings): Promise<Settings> {
  return invoke<Settings>("set_proxy_settings", { settings });
}

/**
 * The namespaces for the selector, with the ones added by hand (the
 * context's own and those when listing is refused).
 */
export function listNamespaces(context: string): Promise<NamespaceList> {
  return invoke<NamespaceList>("list_namespaces", { context });
}

/**
 * Remembers a namespace added by hand for `context` (checked as a DNS-1123
 * label by the backend too); resolves to the context's added namespaces.
 */
export function addNamespace(context: string, namespace: string): Promise<string[]> {
  return invoke<string[]>("add_namespace", { context, namespace });
}

/** Forgets a namespace added for `context`; resolves to the ones left. */
export function removeNamespace(context: string, namespace: string): Promise<string[]> {
  return invoke<string[]>("remove_namespace", { context, namespace });
}

// Whoever listens to the watched service list (see onServicesChanged).
const serviceListeners = new Set<(notice: ServiceListNotice) => void>();

/**
 * Starts this window's live service list (replacing its previous one);
 * `onServicesChanged` hears when it changed (a `reset` first, on a channel
 * of this watch), and `serviceRows` gives the rows to show. Resolves to
 * the watch's id.
 */
export function watchServices(context: string, query: ServiceQuery): Promise<number> {
  const onUpdate = new Channel<ServiceListNotice>();
  onUpdate.onmessage = (notice) => {
    for (const listener of serviceListeners) listener(notice);
  };
  return invoke<number>("watch_services", { context, query, onUpdate });
}

/**
 * The rows of watch `watchId` the table shows: filtered, sorted, one
 * window of them (the list itself stays in the backend).
 */
export function serviceRows(watchId: number, query: RowQuery): Promise<Rows> {
  return invoke<Rows>("service_rows", { watchId, query });
}

/** Ends this window's service watch `id` (a newer watch is kept). */
export function unwatchServices(id: number): Promise<void> {
  return invoke<void>("unwatch_services", { id });
}

export function serviceDetails(
  context: string,
  namespace: string,
  name: string,
): Promise<ServiceDetails> {
  return invoke<ServiceDetails>("service_details", { context, namespace, name });
}

export function clusterInfo(context: string): Promise<ClusterInfoView> {
  return invoke<ClusterInfoView>("cluster_info", { context });
}

/**
 * Opens a link Porthole built (a service, pod or external URL) in the
 * system browser; a Porthole link starts the proxy first if it is off —
 * unless the proxy settings say to ask: then it resolves to
 * `proxyOffAskFirst` and nothing happened; `startProxy` (the user agreed)
 * starts it and opens.
 */
export function openUrl(url: string, startProxy = false): Promise<OpenOutcome> {
  return invoke<OpenOutcome>("open_url", { url, startProxy });
}

/** Every port-forward, saved and running, across contexts (counters as of now). */
export function listForwards(): Promise<ForwardView[]> {
  return invoke<ForwardView[]>("list_forwards");
}

/**
 * Starts a forward to `target` and saves it (its local port chosen once
 * and kept). One that cannot start resolves failed, with why.
 */
export function startForward(target: ForwardTarget): Promise<ForwardView> {
  return invoke<ForwardView>("start_forward", { target });
}

/** Starts the saved forward `id`. */
export function resumeForward(id: string): Promise<ForwardView> {
  return invoke<ForwardView>("resume_forward", { id });
}

export function stopForward(id: string): Promise<ForwardView> {
  return invoke<ForwardView>("stop_forward", { id });
}

export function restartForward(id: string): Promise<ForwardView> {
  return invoke<ForwardView>("restart_forward", { id });
}

/** Stops `id` and forgets it. */
export function removeForward(id: string): Promise<void> {
  return invoke<void>("remove_forward", { id });
}

/** Sets the local port of `id` (1–65535); a running forward moves to it. */
export function setForwardLocalPort(id: string, port: number): Promise<ForwardView> {
  return invoke<ForwardView>("set_forward_local_port", { id, port });
}

/** Whether `id` starts when Porthole starts. */
export function setForwardRestore(id: string, restore: boolean): Promise<ForwardView> {
  return invoke<ForwardView>("set_forward_restore", { id, restore });
}

/** "Start all": every saved forward that is not running. */
export function startSavedForwards(): Promise<ForwardView[]> {
  return invoke<ForwardView[]>("start_saved_forwards");
}

/** A forward was added, removed, started or stopped, or its state moved on. */
export function onForwardsChanged(handler: (views: ForwardView[]) => void): Promise<UnlistenFn> {
  return listen<ForwardView[]>("forwards-changed", (e) => handler(e.payload));
}

/** The watched service list changed (its rows: `serviceRows`). */
export function onServicesChanged(
  handler: (notice: ServiceListNotice) => void,
): Promise<UnlistenFn> {
  serviceListeners.add(handler);
  return Promise.resolve(() => {
    serviceListeners.delete(handler);
  });
}

/** Copies text to the clipboard (the async API, else the old selection way). */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Not available in this webview: fall back below.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("the clipboard is not available");
}

/** The merged contexts changed (a file was edited, added or removed). */
export function onContextsChanged(handler: (list: ContextList) => void): Promise<UnlistenFn> {
  return listen<ContextList>("contexts-changed", (e) => handler(e.payload));
}

/** One context's status changed. */
export function onContextStatus(handler: (update: StatusUpdate) => void): Promise<UnlistenFn> {
  return listen<StatusUpdate>("context-status", (e) => handler(e.payload));
}

/** The proxy started, stopped, failed, or counted more requests. */
export function onProxyStatus(handler: (status: ProxyStatus) => void): Promise<UnlistenFn> {
  return listen<ProxyStatus>("proxy-status", (e) => handler(e.payload));
}

/** Tauri rejects with a string (our commands) or an Error; show either. */
export function errorText(e: unknown): string {
  if (typeof e === "string") return e;
  if (e instanceof Error) return e.message;
  return String(e);
}
