import { render, screen } from "@testing-library/svelte";
import { afterEach, describe, expect, it } from "vitest";
import SettingsProblemBanner from "./SettingsProblemBanner.svelte";
import { setLocale } from "../i18n/index.svelte";

afterEach(() => setLocale("en"));

// What Workspace::settings_problem() says for a settings.json that does not parse.
const where = "/home/ada/.config/porthole/settings.json:2:33: kubeconfigs[1]: expected value";
const malformed = `${where} (the file is kept as it is; Porthole uses default settings until it is fixed)`;

describe("SettingsProblemBanner", () => {
  it("names the file and the place in it, and says the defaults are in use until it is fixed", () => {
    render(SettingsProblemBanner, { problem: malformed });
    const banner = screen.getByRole("alert");
    expect(banner.dataset.testid).toBe("settings-problem");
    expect(banner.textContent).toContain(
      "Porthole's settings file could not be used: default settings are in use until it is fixed",
    );
    expect(banner.textContent).toContain("The file is kept as it is: fix it, then restart Porthole.");
    // The core's reason, without its own last words (the hint says them once).
    expect(screen.getByTestId("settings-problem-reason").textContent).toBe(where);
  });

  it("shows any other reason unchanged", () => {
    const noDir =
      "no place for settings: neither $PORTHOLE_CONFIG_DIR, $XDG_CONFIG_HOME nor a home directory is set";
    render(SettingsProblemBanner, { problem: noDir });
    expect(screen.getByTestId("settings-problem-reason").textContent).toBe(noDir);
  });

  it("speaks Chinese around the core's reason", () => {
    setLocale("zh-CN");
    render(SettingsProblemBanner, { problem: malformed });
    const banner = screen.getByRole("alert");
    expect(banner.textContent).toContain("修正之前使用默认设置");
    expect(banner.textContent).toContain("该文件保持原样");
    expect(screen.getByTestId("settings-problem-reason").textContent).toBe(where);
  });
});
