import { fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ContextList from "./ContextList.svelte";
import { setLocale } from "../i18n/index.svelte";
import type { ContextStatus } from "../bindings/ContextStatus";
import { context, twoFiles } from "../testing/fixtures";

afterEach(() => setLocale("en"));

function setup(selected: string | null = "staging") {
  const onselect = vi.fn();
  const view = render(ContextList, { contexts: twoFiles.contexts, selected, onselect });
  return { onselect, ...view };
}

describe("ContextList", () => {
  it("lists every context of the merged kubeconfig by name", () => {
    setup();
    const names = screen.getAllByRole("option").map((o) => o.getAttribute("data-name"));
    expect(names).toEqual([
      "arn:aws:eks:eu-west-1:123456789012:cluster/prod",
      "kind-porthole",
      "staging",
    ]);
  });

  it("marks only the current context, with a visible badge", () => {
    setup();
    const badges = screen.getAllByTestId("current-badge");
    expect(badges).toHaveLength(1);
    expect(badges[0]?.closest("[role=option]")?.getAttribute("data-name")).toBe("staging");
    expect(badges[0]?.textContent).toBe("current");
  });

  it("shows namespace and server host under each name", () => {
    setup();
    const staging = screen.getByTitle("staging");
    expect(staging.textContent).toContain("monitoring");
    expect(staging.textContent).toContain("staging.k8s.example.com:6443");
    expect(screen.getByTitle("kind-porthole").textContent).toContain("default namespace");
  });

  it("selects on click and reports the name", async () => {
    const { onselect } = setup();
    await fireEvent.click(screen.getByTitle("kind-porthole"));
    expect(onselect).toHaveBeenCalledWith("kind-porthole");
  });

  it("moves the selection with arrow keys, Home and End", async () => {
    const { onselect } = setup("kind-porthole");
    const list = screen.getByRole("listbox");
    await fireEvent.keyDown(list, { key: "ArrowDown" });
    expect(onselect).toHaveBeenLastCalledWith("staging");
    await fireEvent.keyDown(list, { key: "ArrowUp" });
    expect(onselect).toHaveBeenLastCalledWith("arn:aws:eks:eu-west-1:123456789012:cluster/prod");
    await fireEvent.keyDown(list, { key: "End" });
    expect(onselect).toHaveBeenLastCalledWith("staging");
  });

  it("keeps exactly one option in the tab order, the selected one", () => {
    setup("kind-porthole");
    const tabbable = screen.getAllByRole("option").filter((o) => o.tabIndex === 0);
    expect(tabbable.map((o) => o.getAttribute("data-name"))).toEqual(["kind-porthole"]);
    expect(screen.getByTitle("kind-porthole").getAttribute("aria-selected")).toBe("true");
  });

  it("speaks Simplified Chinese when the user picks it", async () => {
    setLocale("zh-CN");
    setup();
    expect(screen.getByTestId("current-badge").textContent).toBe("当前");
    expect(screen.getByRole("listbox").getAttribute("aria-label")).toBe("上下文");
  });

  it("shows a status dot per context, the server version when reachable", () => {
    const statuses: Record<string, ContextStatus> = {
      staging: {
        state: "reachable",
        version: "v1.37.2",
        user: "sre",
        groups: [],
        latencyMs: 8,
      },
      "kind-porthole": {
        state: "failed",
        problem: { kind: "connectionRefused", address: "127.0.0.1:40443" },
      },
    };
    render(ContextList, { contexts: twoFiles.contexts, selected: null, onselect: vi.fn(), statuses });
    const dots = screen.getAllByTestId("status-dot");
    expect(dots.map((d) => d.dataset.state)).toEqual(["checking", "failed", "reachable"]);
    expect(screen.getByTitle("staging").textContent).toContain("v1.37.2");
    expect(screen.getAllByTestId("server-version")).toHaveLength(1);
    // Its twin on the second line, which a narrow sidebar shows instead.
    const twins = screen.getByRole("listbox").querySelectorAll(".sub .sub-version");
    expect(Array.from(twins, (v) => v.closest("li")?.dataset.name)).toEqual(["staging"]);
    expect(screen.getByTitle("kind-porthole").textContent).toContain("Connection refused");
  });

  it("marks a context whose file broke with an error badge", () => {
    const contexts = twoFiles.contexts.map((c) => context({ ...c }, c.name === "kind-porthole"));
    render(ContextList, { contexts, selected: null, onselect: vi.fn() });
    const badges = screen.getAllByTestId("stale-badge");
    expect(badges).toHaveLength(1);
    expect(badges[0]?.closest("[role=option]")?.getAttribute("data-name")).toBe("kind-porthole");
    expect(badges[0]?.textContent).toContain("file broken");
    expect(badges[0]?.getAttribute("title")).toBe("file broken — showing last good version");
  });
});
