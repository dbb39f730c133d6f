import { render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it } from "vitest";
import StatusDot from "./StatusDot.svelte";
import type { ContextStatus } from "../bindings/ContextStatus";
import { setLocale } from "../i18n/index.svelte";

afterEach(() => setLocale("en"));

const reachable: ContextStatus = {
  state: "reachable",
  version: "v1.37.2",
  user: "ada",
  groups: [],
  latencyMs: 12,
};
const failed: ContextStatus = {
  state: "failed",
  problem: { kind: "connectionRefused", address: "127.0.0.1:40443" },
};

function shape(status: ContextStatus | undefined): string {
  const { container, unmount } = render(StatusDot, { status });
  const svg = container.querySelector("svg");
  const result = Array.from(svg?.children ?? [])
    .map((c) => `${c.tagName}.${c.getAttribute("class")}`)
    .join(" ");
  unmount();
  return result;
}

describe("StatusDot", () => {
  it("draws the three states as different shapes, not only colours", () => {
    const shapes = [shape(undefined), shape(reachable), shape(failed)];
    expect(new Set(shapes).size).toBe(3);
    expect(shape({ state: "checking" })).toBe(shape(undefined));
  });

  it("has an accessible label that says the state (and the problem when failed)", () => {
    render(StatusDot, { status: failed });
    const dot = screen.getByRole("img");
    expect(dot.getAttribute("aria-label")).toBe("Status: Failed — Connection refused");
    expect(dot.dataset.state).toBe("failed");
  });

  it("labels in Chinese too", () => {
    setLocale("zh-CN");
    render(StatusDot, { status: reachable });
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("状态：可连接");
  });

  it("counts a context without a status as checking", () => {
    render(StatusDot, { status: undefined });
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("Status: Checking…");
  });
});
