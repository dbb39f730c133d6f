import { fireEvent, render, screen } from "@testing-library/svelte";
import type { ComponentProps } from "svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ContextDetails from "./ContextDetails.svelte";
import { setLocale } from "../i18n/index.svelte";
import { context, twoFiles } from "../testing/fixtures";

// `context` is also a Svelte mount option: props go under `props`.
const show = (props: ComponentProps<typeof ContextDetails>) => render(ContextDetails, { props });

afterEach(() => {
  setLocale("en");
  localStorage.removeItem("porthole.tab");
});

const staging = twoFiles.contexts[2]!;

describe("ContextDetails", () => {
  it("shows server, user, namespace and file, with the status", () => {
    show({
      context: staging,
      status: { state: "failed", problem: { kind: "dns", host: "staging.k8s.example.com", reason: "x" } },
    });
    const text = screen.getByTestId("context-details").textContent ?? "";
    for (const fact of ["https://staging.k8s.example.com:6443", "sre", "monitoring", "work.yaml"])
      expect(text).toContain(fact);
    expect(screen.getByTestId("context-status").dataset.state).toBe("failed");
  });

  it("has no stale badge for a healthy file, and one for a broken file", () => {
    const { unmount } = show({ context: staging, status: undefined });
    expect(screen.queryByTestId("stale-badge")).toBeNull();
    unmount();
    show({ context: context({ ...staging }, true), status: undefined });
    expect(screen.getByTestId("stale-badge").textContent).toContain(
      "file broken — showing last good version",
    );
  });

  it("switches to the Config tab by keyboard and shows the redacted view", async () => {
    const loadConfig = vi.fn().mockResolvedValue("apiVersion: v1\n");
    show({ context: staging, status: undefined, loadConfig });
    const overview = screen.getByRole("tab", { name: "Overview" });
    expect(overview.getAttribute("aria-selected")).toBe("true");
    await fireEvent.keyDown(overview, { key: "End" });
    const config = screen.getByRole("tab", { name: "Config" });
    expect(config.getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement).toBe(config);
    expect((await screen.findByTestId("config-text")).textContent).toBe("apiVersion: v1\n");
    expect(loadConfig).toHaveBeenCalledWith("staging");
    await fireEvent.keyDown(config, { key: "Home" });
    expect(screen.getByTestId("context-status")).toBeTruthy();
  });

  it("opens on the tab chosen last time", async () => {
    const first = show({ context: staging, status: undefined });
    expect(screen.getByRole("tab", { name: "Overview" }).getAttribute("aria-selected")).toBe("true");
    await fireEvent.click(screen.getByRole("tab", { name: "Cluster info" }));
    first.unmount();
    show({ context: staging, status: undefined });
    expect(screen.getByRole("tab", { name: "Cluster info" }).getAttribute("aria-selected")).toBe("true");
  });

  it("speaks Simplified Chinese", () => {
    setLocale("zh-CN");
    show({ context: context({ ...staging }, true), status: undefined });
    expect(screen.getByRole("tab", { name: "配置" })).toBeTruthy();
    expect(screen.getByTestId("stale-badge").textContent).toContain("文件已损坏");
  });
});
