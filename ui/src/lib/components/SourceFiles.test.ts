import { fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import SourceFiles from "./SourceFiles.svelte";
import type { ContextList } from "../bindings/ContextList";
import { setLocale } from "../i18n/index.svelte";
import { source, twoFiles } from "../testing/fixtures";

afterEach(() => setLocale("en"));

const withAdded: ContextList = {
  ...twoFiles,
  sources: [
    ...twoFiles.sources,
    source("/home/ada/clusters/lab.yaml", { state: "loaded", contexts: 1 }, true),
    source("/home/ada/clusters/gone.yaml", { state: "missing" }, true),
  ],
};

describe("SourceFiles", () => {
  it("lists every file with its state", () => {
    render(SourceFiles, { list: withAdded });
    const rows = screen.getAllByRole("listitem");
    expect(rows.map((r) => r.dataset.path)).toEqual(withAdded.sources.map((s) => s.path));
    expect(rows[0]?.textContent).toContain("2 contexts");
    expect(rows[2]?.textContent).toContain("1 context");
    expect(rows[2]?.textContent).not.toContain("1 contexts");
    expect(rows[3]?.textContent).toContain("not found");
  });

  it("offers Remove only for files added in Porthole", async () => {
    const onremove = vi.fn();
    render(SourceFiles, { list: withAdded, onremove, onadd: vi.fn() });
    const buttons = screen.getAllByTestId("remove-kubeconfig");
    expect(buttons.map((b) => b.closest("li")?.dataset.path)).toEqual([
      "/home/ada/clusters/lab.yaml",
      "/home/ada/clusters/gone.yaml",
    ]);
    expect(buttons[0]?.getAttribute("aria-label")).toBe(
      "Remove /home/ada/clusters/lab.yaml from Porthole (the file is kept)",
    );
    await fireEvent.click(buttons[1]!);
    expect(onremove).toHaveBeenCalledWith("/home/ada/clusters/gone.yaml");
  });

  it("has no Remove at all when no file was added in Porthole", () => {
    render(SourceFiles, { list: twoFiles, onremove: vi.fn(), onadd: vi.fn() });
    expect(screen.queryAllByTestId("remove-kubeconfig")).toHaveLength(0);
  });

  it("adds a kubeconfig through the button, disabled while busy", async () => {
    const onadd = vi.fn();
    const { rerender } = render(SourceFiles, { list: twoFiles, onadd });
    const add = screen.getByRole("button", { name: "Add kubeconfig…" });
    await fireEvent.click(add);
    expect(onadd).toHaveBeenCalledOnce();
    await rerender({ list: twoFiles, onadd, busy: true });
    expect((screen.getByTestId("add-kubeconfig") as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows why an add failed", () => {
    render(SourceFiles, { list: twoFiles, onadd: vi.fn(), error: "Could not add the file: nope" });
    expect(screen.getByRole("alert").textContent).toBe("Could not add the file: nope");
  });

  it("speaks Simplified Chinese", () => {
    setLocale("zh-CN");
    render(SourceFiles, { list: withAdded, onremove: vi.fn(), onadd: vi.fn() });
    expect(screen.getByTestId("add-kubeconfig").textContent?.trim()).toBe("添加 kubeconfig…");
    expect(screen.getAllByTestId("remove-kubeconfig")[0]?.textContent).toBe("移除");
  });
});
