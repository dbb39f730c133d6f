import { fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import BrowserSection from "./BrowserSection.svelte";
import { setLocale } from "../i18n/index.svelte";

afterEach(() => setLocale("en"));

async function save(value: string) {
  const input = screen.getByTestId("browser-command-input") as HTMLInputElement;
  await fireEvent.input(input, { target: { value } });
  await fireEvent.submit(input.closest("form")!);
}

describe("BrowserSection", () => {
  it("saves the trimmed command and says services open with it", async () => {
    const onsave = vi.fn().mockResolvedValue(undefined);
    render(BrowserSection, { command: "", onsave });
    await save("  firefox --new-tab {url} ");
    expect(onsave).toHaveBeenCalledWith("firefox --new-tab {url}");
    expect(screen.getByRole("status").textContent).toContain("open with this command");
  });

  it("an empty command means the system's browser", async () => {
    const onsave = vi.fn().mockResolvedValue(undefined);
    render(BrowserSection, { command: "chromium", onsave });
    await save("   ");
    expect(onsave).toHaveBeenCalledWith("");
    expect(screen.getByRole("status").textContent).toContain("default browser");
  });

  it("shows why a save failed, in Chinese too", async () => {
    setLocale("zh-CN");
    const onsave = vi.fn().mockRejectedValue("disk full");
    render(BrowserSection, { command: "", onsave });
    await save("chromium");
    expect(screen.getByRole("alert").textContent).toContain("disk full");
    expect(screen.getByText("浏览器命令")).toBeTruthy();
  });

  it("keeps the {url} placeholder visible in the hint", () => {
    render(BrowserSection, { command: "", onsave: vi.fn() });
    expect(screen.getByText(/\{url\} stands for the link/)).toBeTruthy();
  });

  it("shows the backend's refusal of an unclosed quote under the field, naming the setting", async () => {
    const onsave = vi
      .fn()
      .mockRejectedValue(
        "browserCommand: the ' quote at character 1 is never closed (close it, or escape it with a backslash)",
      );
    render(BrowserSection, { command: "firefox", onsave });
    await save("'/opt/My Browser/browser {url}");
    expect(onsave).toHaveBeenCalledWith("'/opt/My Browser/browser {url}");
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("browserCommand: the ' quote at character 1 is never closed");
    const input = screen.getByTestId("browser-command-input");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(input.getAttribute("aria-describedby")).toContain(alert.id);
    expect(screen.getByText(/Quote a path with spaces/)).toBeTruthy();
  });
});
