// A context's status in words, in the UI's language. One place words every
// ClusterProblem and TlsProblem, so the list, the details and the tests agree;
// `switch` over the generated unions makes a new Rust variant a type error here.
import type { ClusterProblem } from "./bindings/ClusterProblem";
import type { ContextStatus } from "./bindings/ContextStatus";
import type { ContextSummary } from "./bindings/ContextSummary";
import type { SourceReport } from "./bindings/SourceReport";
import type { TlsProblem } from "./bindings/TlsProblem";
import { t } from "./i18n/index.svelte";

export type StatusState = ContextStatus["state"];

/** What went wrong and what the user can do about it. */
export interface ProblemText {
  /** A few words, for the list and headings. */
  title: string;
  /** What happened, with the names the user needs (file, host, plugin...). */
  message: string;
  /** Further facts: where, what was searched, the plugin's own words. */
  details: string[];
  /** What to do next. */
  action: string;
}

/** No status yet means a probe is pending: "checking". */
export function stateOf(status: ContextStatus | undefined): StatusState {
  return status?.state ?? "checking";
}

export function statusLabel(status: ContextStatus | undefined): string {
  switch (stateOf(status)) {
    case "reachable":
      return t("statusReachable");
    case "failed":
      return t("statusFailed");
    case "checking":
      return t("statusChecking");
  }
}

function tlsText(problem: TlsProblem): { message: string; action: string } {
  switch (problem.kind) {
    case "unknownAuthority":
      return { message: t("pTlsUnknownAuthority"), action: t("pTlsUnknownAuthorityAction") };
    case "expired":
      return { message: t("pTlsExpired"), action: t("pTlsExpiredAction") };
    case "nameMismatch":
      return {
        message: t("pTlsNameMismatch", {
          expected: problem.expected,
          presented:
            problem.presented.length > 0 ? problem.presented.join(", ") : t("pTlsOtherNames"),
        }),
        action: t("pTlsNameMismatchAction"),
      };
    case "handshakeStalled":
      return { message: t("pTlsHandshakeStalled"), action: t("pTlsHandshakeStalledAction") };
    case "other":
      return { message: t("pTlsOther", { detail: problem.detail }), action: t("pTlsOtherAction") };
  }
}

function phaseText(phase: string): string {
  switch (phase) {
    case "connect":
      return t("phaseConnect");
    case "tls":
      return t("phaseTls");
    case "response":
      return t("phaseResponse");
    default:
      return phase;
  }
}

export function describeProblem(problem: ClusterProblem): ProblemText {
  switch (problem.kind) {
    case "kubeconfig": {
      const where =
        problem.file === null
          ? []
          : problem.line === null
            ? [t("pKubeconfigIn", { file: problem.file })]
            : [t("pKubeconfigAt", { file: problem.file, line: problem.line })];
      return {
        title: t("pKubeconfigTitle"),
        message: t("pKubeconfig", { field: problem.field, reason: problem.reason }),
        details: where,
        action: t("pKubeconfigAction"),
      };
    }
    case "pluginNotFound": {
      // `installHint` is being added to the Rust type: read as optional until it lands.
      const hint = (problem as { installHint?: string | null }).installHint;
      return {
        title: t("pPluginNotFoundTitle"),
        message: t("pPluginNotFound", { command: problem.command }),
        details: [
          ...(hint ? [t("pPluginInstallHint", { hint })] : []),
          ...(problem.searched.length > 0
            ? [t("pPluginNotFoundSearched", { dirs: problem.searched.join(":") })]
            : []),
        ],
        action: t("pPluginNotFoundAction", { command: problem.command }),
      };
    }
    case "pluginFailed":
      return {
        title: t("pPluginFailedTitle"),
        message:
          problem.exitCode === null
            ? t("pPluginFailed", { command: problem.command })
            : t("pPluginFailedCode", { command: problem.command, code: problem.exitCode }),
        details: [...(problem.reason === null ? [] : [problem.reason]), ...problem.stderr],
        action: t("pPluginFailedAction", { command: problem.command }),
      };
    case "pluginTimedOut":
      return {
        title: t("pPluginTimedOutTitle"),
        message: t("pPluginTimedOut", { command: problem.command, seconds: problem.seconds }),
        details: [],
        action: t("pPluginTimedOutAction"),
      };
    case "oidcRefreshFailed":
      return {
        title: t("pOidcTitle"),
        message: t("pOidc", { issuer: problem.issuer, reason: problem.reason }),
        details: [],
        action: t("pOidcAction"),
      };
    case "dns":
      return {
        title: t("pDnsTitle"),
        message: t("pDns", { host: problem.host, reason: problem.reason }),
        details: [],
        action: t("pDnsAction"),
      };
    case "connectionRefused":
      return {
        title: t("pRefusedTitle"),
        message: t("pRefused", { address: problem.address }),
        details: [],
        action: t("pRefusedAction"),
      };
    case "proxy":
      return {
        title: t("pProxyTitle"),
        message: t("pProxy", { proxy: problem.proxy, reason: problem.reason }),
        details: [],
        action: t("pProxyAction"),
      };
    case "tls": {
      const tls = tlsText(problem.problem);
      return { title: t("pTlsTitle"), message: tls.message, details: [], action: tls.action };
    }
    case "unauthorized":
      return {
        title: t("pUnauthorizedTitle"),
        message:
          problem.user === null
            ? t("pUnauthorizedNoUser")
            : t("pUnauthorized", { user: problem.user }),
        details: [],
        action: t("pUnauthorizedAction"),
      };
    case "forbidden":
      return {
        title: t("pForbiddenTitle"),
        message:
          problem.user === null
            ? t("pForbiddenNoUser", { message: problem.message })
            : t("pForbidden", { user: problem.user, message: problem.message }),
        details: [],
        action: t("pForbiddenAction"),
      };
    case "timeout":
      return {
        title: t("pTimeoutTitle"),
        message: t("pTimeout", { seconds: problem.seconds, phase: phaseText(problem.phase) }),
        details: [],
        action: t("pTimeoutAction"),
      };
    case "other":
      return {
        title: t("pOtherTitle"),
        message: problem.detail,
        details: [],
        action: t("pOtherAction"),
      };
  }
}

// `stale` (ContextSummary) and `added` (SourceReport) are being added to the
// Rust types; until the bindings carry them they are read as optional.
type MaybeStale = ContextSummary & { stale?: boolean };
type MaybeAdded = SourceReport & { added?: boolean };

/** The context comes from a file that broke after it was read: last good version shown. */
export function isStale(context: ContextSummary): boolean {
  return (context as MaybeStale).stale === true;
}

/** The file was added in Porthole (so it can be removed there). */
export function isAdded(source: SourceReport): boolean {
  return (source as MaybeAdded).added === true;
}
