import { fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ProxySettingsSection from "./ProxySettingsSection.svelte";
import { setLocale } from "../i18n/index.svelte";

afterEach(() => setLocale("en"));

const proxy = { startWithApp: true, address: "127.0.0.1", port: 8001, readOnly: false, allowExec: false, askBeforeStarting: false };

describe("ProxySettingsSection", () => {
  it("shows the saved settings", () => {
    render(ProxySettingsSection, { proxy, onsave: vi.fn() });
    expect((screen.getByLabelText("Port") as HTMLInputElement).value).toBe("8001");
    expect((screen.getByLabelText("Address") as HTMLSelectElement).value).toBe("127.0.0.1");
    expect((screen.getByLabelText("Start the proxy with Porthole") as HTMLInputElement).checked).toBe(
      true,
    );
    expect((screen.getByLabelText("Allow exec and attach into pods") as HTMLInputElement).checked).toBe(
      false,
    );
    expect((screen.getByRole("button", { name: "Save" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("saves port and address together", async () => {
    const onsave = vi.fn().mockResolvedValue(undefined);
    render(ProxySettingsSection, { proxy, onsave });
    await fireEvent.input(screen.getByLabelText("Port"), { target: { value: "8080" } });
    await fireEvent.change(screen.getByLabelText("Address"), { target: { value: "::1" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(onsave).toHaveBeenCalledWith({ ...proxy, port: 8080, address: "::1" });
    await vi.waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved"));
  });

  it("accepts 0 (any free port) and refuses what is not a port", async () => {
    const onsave = vi.fn().mockResolvedValue(undefined);
    render(ProxySettingsSection, { proxy, onsave });
    const port = screen.getByLabelText("Port");
    await fireEvent.input(port, { target: { value: "8o01" } });
    expect(port.getAttribute("aria-invalid")).toBe("true");
    await fireEvent.submit(port.closest("form")!);
    expect(onsave).not.toHaveBeenCalled();
    expect(screen.getByRole("alert").textContent).toContain("1 to 65535");
    await fireEvent.input(port, { target: { value: "0" } });
    await fireEvent.submit(port.closest("form")!);
    expect(onsave).toHaveBeenCalledWith({ ...proxy, port: 0 });
  });

  it("saves a switch as soon as it changes", async () => {
    const onsave = vi.fn().mockResolvedValue(undefined);
    render(ProxySettingsSection, { proxy, onsave });
    await fireEvent.click(screen.getByLabelText("Allow exec and attach into pods"));
    expect(onsave).toHaveBeenCalledWith({ ...proxy, allowExec: true });
    await fireEvent.click(screen.getByLabelText(/^Read-only/));
    expect(onsave).toHaveBeenLastCalledWith({ ...proxy, readOnly: true });
    await fireEvent.click(screen.getByLabelText("Start the proxy with Porthole"));
    expect(onsave).toHaveBeenLastCalledWith({ ...proxy, startWithApp: false });
  });

  it("warns what allowing exec means", () => {
    render(ProxySettingsSection, { proxy, onsave: vi.fn() });
    const exec = screen.getByLabelText("Allow exec and attach into pods");
    const warning = document.getElementById(exec.getAttribute("aria-describedby")!);
    expect(warning?.textContent).toContain("run commands in your pods");
  });

  it("shows the backend's reason when saving fails", async () => {
    const onsave = vi.fn().mockRejectedValue("::2 is not a loopback address");
    render(ProxySettingsSection, { proxy, onsave });
    await fireEvent.click(screen.getByLabelText(/^Read-only/));
    await vi.waitFor(() =>
      expect(screen.getByRole("alert").textContent).toBe(
        "Could not save the settings: ::2 is not a loopback address",
      ),
    );
  });

  it("speaks Simplified Chinese", () => {
    setLocale("zh-CN");
    render(ProxySettingsSection, { proxy, onsave: vi.fn() });
    expect(screen.getByText("本地代理")).toBeTruthy();
    expect(screen.getByLabelText("端口")).toBeTruthy();
    expect(screen.getByLabelText("随 Porthole 启动代理")).toBeTruthy();
  });

  it("has the ask-before-starting switch, off by default, saved at once", async () => {
    const onsave = vi.fn().mockResolvedValue(undefined);
    render(ProxySettingsSection, { proxy, onsave });
    const ask = screen.getByLabelText("Ask before starting the proxy to open a service") as HTMLInputElement;
    expect(ask.checked).toBe(false);
    expect(document.getElementById(ask.getAttribute("aria-describedby")!)?.textContent).toContain(
      "opening a service while the proxy is off starts it",
    );
    await fireEvent.click(ask);
    expect(onsave).toHaveBeenCalledWith({ ...proxy, askBeforeStarting: true });
  });

  it("shows the switch on when saved on, in Chinese too", () => {
    setLocale("zh-CN");
    render(ProxySettingsSection, { proxy: { ...proxy, askBeforeStarting: true }, onsave: vi.fn() });
    expect((screen.getByLabelText("打开服务时如需启动代理，先询问") as HTMLInputElement).checked).toBe(true);
  });
});
