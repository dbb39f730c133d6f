import { render, screen } from "@testing-library/svelte";
import { createRawSnippet } from "svelte";
import { describe, expect, it } from "vitest";
import Banner from "./Banner.svelte";

const text = (s: string) => createRawSnippet(() => ({ render: () => `<strong>${s}</strong>` }));

describe("Banner", () => {
  it("is an alert with what it is given, in its tone", () => {
    render(Banner, { tone: "warn", testid: "settings-problem", children: text("Settings ignored") });
    const banner = screen.getByRole("alert");
    expect(banner).toBe(screen.getByTestId("settings-problem"));
    expect(banner.textContent).toBe("Settings ignored");
    expect(banner.classList.contains("warn")).toBe(true);
    expect(banner.classList.contains("danger")).toBe(false);
  });
});
