import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import TextFieldForm from "./TextFieldForm.svelte";

describe("TextFieldForm", () => {
  it("labels its field, submits it, and says what describes it", async () => {
    const onsubmit = vi.fn((e: SubmitEvent) => e.preventDefault());
    render(TextFieldForm, {
      id: "dir-input",
      label: "Directory",
      value: "/usr/bin",
      button: "Add",
      onsubmit,
      describedby: "dir-hint",
      invalid: true,
      labelledby: "dir-title",
      testid: "dir",
    });
    const input = screen.getByLabelText("Directory") as HTMLInputElement;
    expect(input).toBe(screen.getByTestId("dir"));
    expect(input.value).toBe("/usr/bin");
    expect(input.getAttribute("aria-describedby")).toBe("dir-hint");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(input.getAttribute("spellcheck")).toBe("false");
    expect(input.closest("form")?.getAttribute("aria-labelledby")).toBe("dir-title");
    await fireEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(onsubmit).toHaveBeenCalledTimes(1);
  });

  it("leaves the button off while told to", () => {
    render(TextFieldForm, { id: "x", label: "X", value: "", button: "Save", disabled: true, onsubmit: vi.fn() });
    expect((screen.getByRole("button", { name: "Save" }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByLabelText("X").getAttribute("aria-invalid")).toBe("false");
    expect(screen.getByLabelText("X").closest("form")?.hasAttribute("aria-labelledby")).toBe(false);
  });
});
