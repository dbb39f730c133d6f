// The only door from the UI to the backend. Every payload type comes from
// ./bindings, generated from the Rust types by ts-rs (never written by hand).
import { invoke } from "@tauri-apps/api/core";
import type { ContextList } from "./bindings/ContextList";

export function listContexts(): Promise<ContextList> {
  return invoke<ContextList>("list_contexts");
}

/** Tauri rejects with a string (our commands) or an Error; show either. */
export function errorText(e: unknown): string {
  if (typeof e === "string") return e;
  if (e instanceof Error) return e.message;
  return String(e);
}
