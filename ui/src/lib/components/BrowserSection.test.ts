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
});
