import { afterEach, describe, expect, it } from "vitest";
import type { ClusterProblem } from "./bindings/ClusterProblem";
import type { TlsProblem } from "./bindings/TlsProblem";
import { setLocale, type Locale } from "./i18n/index.svelte";
import { describeProblem, isAdded, isStale, statusLabel } from "./status";
import { context, source, twoFiles } from "./testing/fixtures";

afterEach(() => setLocale("en"));

// One sample per variant. Typed by kind, so a variant added in Rust (and so
// in the bindings) fails svelte-check here until it gets a sample and words.
type ByKind<U extends { kind: string }> = { [K in U["kind"]]: Extract<U, { kind: K }> };

const tls: ByKind<TlsProblem> = {
  unknownAuthority: { kind: "unknownAuthority" },
  expired: { kind: "expired" },
  nameMismatch: {
    kind: "nameMismatch",
    expected: "api.example.test",
    presented: ["kubernetes", "10.0.0.1"],
  },
  handshakeStalled: { kind: "handshakeStalled" },
  other: { kind: "other", detail: "peer sent no certificates" },
};

// Built untyped, then checked by kind: `installHint` is being added to pluginNotFound.
const pluginNotFound = {
  kind: "pluginNotFound" as const,
  command: "gke-gcloud-auth-plugin",
  searched: ["/usr/bin", "/bin"],
  installHint: "gcloud components install gke-gcloud-auth-plugin",
};

const problems: ByKind<ClusterProblem> = {
  kubeconfig: {
    kind: "kubeconfig",
    file: "/home/ada/.kube/config",
    line: 12,
    field: 'users["dev"].user.client-certificate',
    reason: "file not found",
  },
  pluginNotFound,
  pluginFailed: {
    kind: "pluginFailed",
    command: "aws",
    exitCode: 255,
    stderr: ["Unable to locate credentials"],
    reason: null,
  },
  pluginTimedOut: { kind: "pluginTimedOut", command: "kubelogin", seconds: 30 },
  oidcRefreshFailed: {
    kind: "oidcRefreshFailed",
    issuer: "https://issuer.example.test",
    reason: "invalid_grant",
  },
  dns: { kind: "dns", host: "staging.k8s.example.com", reason: "name not known" },
  connectionRefused: { kind: "connectionRefused", address: "127.0.0.1:40443" },
  proxy: { kind: "proxy", proxy: "socks5://127.0.0.1:1080", reason: "connection refused" },
  tls: { kind: "tls", problem: tls.unknownAuthority },
  unauthorized: { kind: "unauthorized", user: "ada" },
  forbidden: { kind: "forbidden", user: "ada", message: "cannot get path /version" },
  timeout: { kind: "timeout", phase: "connect", seconds: 10 },
  other: { kind: "other", detail: "unexpected answer from /version" },
};

// The facts each wording must carry, whatever the language.
const facts: { [K in ClusterProblem["kind"]]: string[] } = {
  kubeconfig: ['users["dev"].user.client-certificate', "/home/ada/.kube/config", "12"],
  pluginNotFound: ["gke-gcloud-auth-plugin", "/usr/bin:/bin", "gcloud components install"],
  pluginFailed: ["aws", "255", "Unable to locate credentials"],
  pluginTimedOut: ["kubelogin", "30"],
  oidcRefreshFailed: ["https://issuer.example.test", "invalid_grant"],
  dns: ["staging.k8s.example.com"],
  connectionRefused: ["127.0.0.1:40443"],
  proxy: ["socks5://127.0.0.1:1080"],
  tls: [],
  unauthorized: ["ada"],
  forbidden: ["ada", "cannot get path /version"],
  timeout: ["10"],
  other: ["unexpected answer from /version"],
};

const everyProblem: ClusterProblem[] = [
  ...Object.values(problems),
  ...Object.values(tls).map((p): ClusterProblem => ({ kind: "tls", problem: p })),
  { kind: "unauthorized", user: null },
  { kind: "forbidden", user: null, message: "no" },
  { kind: "pluginFailed", command: "aws", exitCode: null, stderr: [], reason: "bad JSON" },
  { kind: "kubeconfig", file: null, line: null, field: "clusters", reason: "missing" },
  { kind: "tls", problem: { kind: "nameMismatch", expected: "a", presented: [] } },
  { kind: "timeout", phase: "response", seconds: 5 },
];

const hasHan = /\p{Script=Han}/u;

describe.each<Locale>(["en", "zh-CN"])("problem wording in %s", (locale) => {
  it.each(everyProblem.map((p) => [`${p.kind}${p.kind === "tls" ? `/${p.problem.kind}` : ""}`, p]))(
    "%s has a title, a message and what to do, with no placeholder left",
    (_name, problem) => {
      setLocale(locale);
      const text = describeProblem(problem as ClusterProblem);
      for (const part of [text.title, text.message, text.action, ...text.details]) {
        expect(part.trim()).not.toBe("");
        expect(part).not.toMatch(/\{\w+\}/);
      }
      if (locale === "zh-CN") {
        expect(text.title).toMatch(hasHan);
        expect(text.action).toMatch(hasHan);
      }
    },
  );

  it.each(Object.entries(facts))("%s names what the user needs to fix it", (kind, needed) => {
    setLocale(locale);
    const text = describeProblem(problems[kind as ClusterProblem["kind"]]);
    const all = [text.message, ...text.details, text.action].join("\n");
    for (const fact of needed) expect(all).toContain(fact);
  });

  it("words every TLS problem differently, with its own advice", () => {
    setLocale(locale);
    const texts = Object.values(tls).map((p) => describeProblem({ kind: "tls", problem: p }));
    expect(new Set(texts.map((x) => x.message)).size).toBe(texts.length);
    expect(new Set(texts.map((x) => x.action)).size).toBe(texts.length);
    const mismatch = describeProblem({ kind: "tls", problem: tls.nameMismatch });
    expect(mismatch.message).toContain("api.example.test");
    expect(mismatch.message).toContain("kubernetes, 10.0.0.1");
  });
});

describe("status wording", () => {
  it("says something different for each problem kind", () => {
    const titles = Object.values(problems).map((p) => describeProblem(p).title);
    expect(new Set(titles).size).toBe(titles.length);
  });

  it("tells the user where to add a PATH directory when a plugin is missing", () => {
    expect(describeProblem(problems.pluginNotFound).action).toContain("Extra PATH directories");
    setLocale("zh-CN");
    expect(describeProblem(problems.pluginNotFound).action).toContain("额外的 PATH 目录");
  });

  it("words the timeout phase in the user's language", () => {
    expect(describeProblem(problems.timeout).message).toBe(
      "The server did not answer within 10 s (while connecting).",
    );
    setLocale("zh-CN");
    expect(describeProblem(problems.timeout).message).toBe("服务器在 10 秒内没有响应（连接时）。");
  });

  it("labels the three states", () => {
    expect(statusLabel(undefined)).toBe("Checking…");
    expect(statusLabel({ state: "checking" })).toBe("Checking…");
    expect(
      statusLabel({ state: "reachable", version: "v1", user: null, groups: [], latencyMs: 1 }),
    ).toBe("Reachable");
    expect(statusLabel({ state: "failed", problem: problems.dns })).toBe("Failed");
    setLocale("zh-CN");
    expect(statusLabel({ state: "failed", problem: problems.dns })).toBe("失败");
  });

  it("reads stale and added, false when absent", () => {
    const base = twoFiles.contexts[0]!;
    expect(isStale(base)).toBe(false);
    expect(isStale(context({ ...base }, true))).toBe(true);
    expect(isAdded(source("/a", { state: "missing" }))).toBe(false);
    expect(isAdded(source("/a", { state: "missing" }, true))).toBe(true);
  });
});
