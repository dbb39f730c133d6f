// Namespace names typed by hand: the apiserver's rule (a DNS-1123 label),
// checked before anything is sent, with a message that says what to fix.
// The backend checks the same rule again before saving.
import { t } from "./i18n/index.svelte";

export type NamespaceProblem =
  | { kind: "empty" }
  | { kind: "char"; char: string }
  | { kind: "long"; count: number }
  | { kind: "edge" }
  | { kind: "upper"; suggestion: string };

/** Why `name` is not a namespace name, or null when it is one. */
export function checkNamespace(name: string): NamespaceProblem | null {
  if (name === "") return { kind: "empty" };
  const bad = [...name].find((c) => !/^[a-zA-Z0-9-]$/.test(c));
  if (bad !== undefined) return { kind: "char", char: bad };
  if (name.length > 63) return { kind: "long", count: name.length };
  if (name.startsWith("-") || name.endsWith("-")) return { kind: "edge" };
  if (/[A-Z]/.test(name)) return { kind: "upper", suggestion: name.toLowerCase() };
  return null;
}

/** The problem in words, followed by the rule. */
export function namespaceProblemText(name: string, problem: NamespaceProblem): string {
  switch (problem.kind) {
    case "empty":
      return t("namespaceInvalidEmpty");
    case "char":
      return `${t("namespaceInvalidChar", { char: problem.char === " " ? "␣" : problem.char })} ${t("namespaceRule")}`;
    case "long":
      return `${t("namespaceInvalidLong", { name: `${name.slice(0, 20)}…`, count: problem.count })} ${t("namespaceRule")}`;
    case "edge":
      return `${t("namespaceInvalidEdge")} ${t("namespaceRule")}`;
    case "upper":
      return t("namespaceInvalidUpper", { name, suggestion: problem.suggestion });
  }
}
