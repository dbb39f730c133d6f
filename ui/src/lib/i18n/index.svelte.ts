// UI language: English and Simplified Chinese. The choice follows the
// system language until the user picks one, which is remembered.
import { en, type MessageKey, type Messages } from "./en";
import { zhCN } from "./zh-CN";

export type Locale = "en" | "zh-CN";
export const locales: { id: Locale; label: string }[] = [
  { id: "en", label: "English" },
  { id: "zh-CN", label: "简体中文" },
];

const catalogs: Record<Locale, Messages> = { en, "zh-CN": zhCN };
const STORAGE_KEY = "porthole.locale";

export function detectLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

function initialLocale(): Locale {
  try {
    const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (saved === "en" || saved === "zh-CN") return saved;
  } catch {
    // Storage can be unavailable (private mode, tests): fall through.
  }
  return detectLocale(globalThis.navigator?.languages ?? []);
}

const state = $state({ locale: initialLocale() });

export function getLocale(): Locale {
  return state.locale;
}

export function setLocale(locale: Locale): void {
  state.locale = locale;
  document.documentElement.lang = locale;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, locale);
  } catch {
    // Not remembered; still applied for this session.
  }
}

/** The text for `key` in the current language, with `{name}` filled in. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const template = catalogs[state.locale][key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}
