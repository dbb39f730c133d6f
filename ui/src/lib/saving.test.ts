import { afterEach, describe, expect, it } from "vitest";
import { setLocale } from "./i18n/index.svelte";
import { SettingsSave } from "./saving.svelte";

afterEach(() => setLocale("en"));

describe("SettingsSave", () => {
  it("is saving while the save runs, and clears an old problem when it succeeds", async () => {
    const s = new SettingsSave();
    s.problem = "old";
    let finish: () => void = () => undefined;
    const done = s.run(() => new Promise<void>((resolve) => (finish = resolve)));
    expect(s.saving).toBe(true);
    finish();
    expect(await done).toBe(true);
    expect(s.saving).toBe(false);
    expect(s.problem).toBeNull();
  });

  it("says why a save failed, in the user's language", async () => {
    const s = new SettingsSave();
    expect(await s.run(() => Promise.reject(new Error("disk full")))).toBe(false);
    expect(s.saving).toBe(false);
    expect(s.problem).toBe("Could not save the settings: disk full");
    setLocale("zh-CN");
    await s.run(() => Promise.reject("disk full"));
    expect(s.problem).toContain("disk full");
    expect(s.problem).not.toContain("Could not save");
  });
});
