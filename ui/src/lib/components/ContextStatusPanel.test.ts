import { render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it } from "vitest";
import ContextStatusPanel from "./ContextStatusPanel.svelte";
import { setLocale } from "../i18n/index.svelte";

afterEach(() => setLocale("en"));

describe("ContextStatusPanel", () => {
  it("shows version, the authenticated user, groups and latency when reachable", () => {
    render(ContextStatusPanel, {
      status: {
        state: "reachable",
        version: "v1.37.2",
        user: "system:admin",
        groups: ["system:masters", "system:authenticated"],
        latencyMs: 23,
      },
    });
    const panel = screen.getByTestId("context-status");
    expect(panel.dataset.state).toBe("reachable");
    const text = panel.textContent ?? "";
    for (const fact of [
      "Reachable",
      "v1.37.2",
      "system:admin",
      "system:masters, system:authenticated",
      "23 ms",
    ])
      expect(text).toContain(fact);
  });

  it("says when the server does not tell who the user is", () => {
    render(ContextStatusPanel, {
      status: { state: "reachable", version: "v1.30.0", user: null, groups: [], latencyMs: 5 },
    });
    expect(screen.getByTestId("context-status").textContent).toContain("not reported");
  });

  it("words a failure for a human, with what to do", () => {
    render(ContextStatusPanel, {
      status: {
        state: "failed",
        problem: { kind: "dns", host: "staging.k8s.example.com", reason: "name not known" },
      },
    });
    expect(screen.getByRole("heading").textContent).toContain("Server name not found");
    expect(screen.getByTestId("problem-message").textContent).toBe(
      "The name staging.k8s.example.com cannot be resolved: name not known",
    );
    expect(screen.getByTestId("problem-action").textContent).toContain("What to do:");
  });

  it("says it is checking while no status is known", () => {
    render(ContextStatusPanel, { status: undefined });
    expect(screen.getByTestId("context-status").dataset.state).toBe("checking");
    expect(screen.getByRole("heading").textContent).toContain("Checking…");
  });

  it("speaks Simplified Chinese", () => {
    setLocale("zh-CN");
    render(ContextStatusPanel, {
      status: { state: "failed", problem: { kind: "connectionRefused", address: "127.0.0.1:1" } },
    });
    expect(screen.getByRole("heading").textContent).toContain("连接被拒绝");
    expect(screen.getByTestId("problem-action").textContent).toContain("解决办法");
  });
});
