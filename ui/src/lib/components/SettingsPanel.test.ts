import { fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import SettingsPanel from "./SettingsPanel.svelte";
import { setLocale } from "../i18n/index.svelte";

afterEach(() => setLocale("en"));

const proxy = { startWithApp: true, address: "127.0.0.1", port: 8001, readOnly: false, allowExec: false, askBeforeStarting: false };
const settings = { kubeconfigs: [], extraPathDirs: ["/opt/google-cloud-sdk/bin"], proxy, browserCommand: "", addedNamespaces: {}, forwards: [] };

async function type(value: string) {
  const input = screen.getByTestId("extra-path-input") as HTMLInputElement;
  await fireEvent.input(input, { target: { value } });
  await fireEvent.submit(input.closest("form")!);
}

describe("SettingsPanel", () => {
  it("lists the extra PATH directories", () => {
    render(SettingsPanel, { settings, onsavepath: vi.fn(), onsaveproxy: vi.fn() });
    expect(screen.getByTestId("extra-path-list").textContent).toContain(
      "/opt/google-cloud-sdk/bin",
    );
  });

  it("adds a directory at the end of the list", async () => {
    const onsavepath = vi.fn().mockResolvedValue(undefined);
    render(SettingsPanel, { settings, onsavepath, onsaveproxy: vi.fn() });
    await type("  /usr/local/aws-cli/bin ");
    expect(onsavepath).toHaveBeenCalledWith([
      "/opt/google-cloud-sdk/bin",
      "/usr/local/aws-cli/bin",
    ]);
  });

  it("refuses a relative path or a repeat, saying why", async () => {
    const onsavepath = vi.fn();
    render(SettingsPanel, { settings, onsavepath, onsaveproxy: vi.fn() });
    await type("bin");
    expect(screen.getByRole("alert").textContent).toContain("full path");
    await type("/opt/google-cloud-sdk/bin");
    expect(screen.getByRole("alert").textContent).toContain("already in the list");
    expect(onsavepath).not.toHaveBeenCalled();
  });

  it("removes a directory", async () => {
    const onsavepath = vi.fn().mockResolvedValue(undefined);
    render(SettingsPanel, { settings, onsavepath, onsaveproxy: vi.fn() });
    await fireEvent.click(
      screen.getByRole("button", { name: "Remove /opt/google-cloud-sdk/bin" }),
    );
    expect(onsavepath).toHaveBeenCalledWith([]);
  });

  it("shows the backend's reason when saving fails", async () => {
    const onsavepath = vi.fn().mockRejectedValue("settings file is read-only");
    render(SettingsPanel, { settings, onsavepath, onsaveproxy: vi.fn() });
    await type("/srv/bin");
    await vi.waitFor(() =>
      expect(screen.getByRole("alert").textContent).toBe(
        "Could not save the settings: settings file is read-only",
      ),
    );
  });

  it("speaks Simplified Chinese", () => {
    setLocale("zh-CN");
    render(SettingsPanel, {
      settings: { kubeconfigs: [], extraPathDirs: [], proxy, browserCommand: "", addedNamespaces: {}, forwards: [] },
      onsavepath: vi.fn(),
      onsaveproxy: vi.fn(),
    });
    expect(screen.getByText("额外的 PATH 目录")).toBeTruthy();
    expect(screen.getByText("暂无。")).toBeTruthy();
  });
});
