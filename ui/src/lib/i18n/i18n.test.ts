import { describe, expect, it } from "vitest";
import { en } from "./en";
import { zhCN } from "./zh-CN";
import { detectLocale, setLocale, t } from "./index.svelte";

describe("i18n", () => {
  it("picks Simplified Chinese for any zh system language, English otherwise", () => {
    expect(detectLocale(["zh-CN"])).toBe("zh-CN");
    expect(detectLocale(["zh-Hans-SG", "en"])).toBe("zh-CN");
    expect(detectLocale(["de-DE", "en-GB"])).toBe("en");
    expect(detectLocale([])).toBe("en");
  });

  it("fills parameters in both languages", () => {
    setLocale("zh-CN");
    expect(t("contextsCount", { count: 3 })).toBe("3 个上下文");
    setLocale("en");
    expect(t("contextsCount", { count: 3 })).toBe("3 contexts");
  });

  it("has a Chinese text for every English one, none left empty", () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
    for (const [key, value] of Object.entries(zhCN)) expect(value, key).not.toBe("");
  });
});
